-- Per state of one state machine and each downstream call made below it (directly, or by a Lambda
-- function it invoked, at any depth): calls, faults (5xx), errors (4xx), throttles (429), fault rate and
-- p95 duration, over the X-Ray traces of executions started in the period. A call is counted for the
-- nearest state above it (a state inside a Map counts its own calls, not its Map's).
-- Params: $state_machine_arn, $domain (its domain, NULL = unknown), $start, $end, $d0, $d1.
WITH RECURSIVE
mine AS (
    SELECT trace_id
    FROM traces($traces_glob)
    WHERE date BETWEEN $d0 AND $d1
      AND start_time >= $start AND start_time < $end
      AND ($domain IS NULL OR domain = $domain)
      AND state_machine_arn = $state_machine_arn
),
seg AS (
    SELECT s.trace_id, s.segment_id, s.parent_id, s.name, s.namespace, s.aws_operation, s.fault, s.error,
           s.throttle, s.duration_ms, s.state_name
    FROM trace_segments($trace_segments_glob) s
    WHERE s.date BETWEEN $d0 AND $d1
      AND ($domain IS NULL OR s.domain = $domain)
      AND s.trace_id IN (SELECT trace_id FROM mine)
),
below(trace_id, segment_id, state_name) AS (
    SELECT trace_id, segment_id, state_name FROM seg WHERE state_name IS NOT NULL
    UNION ALL
    SELECT c.trace_id, c.segment_id, b.state_name
    FROM seg c JOIN below b ON c.trace_id = b.trace_id AND c.parent_id = b.segment_id
    WHERE c.state_name IS NULL
)
SELECT b.state_name, s.name AS service, s.aws_operation AS operation,
       count(*) AS calls,
       count(*) FILTER (s.fault) AS faults,
       count(*) FILTER (s.error) AS errors,
       count(*) FILTER (s.throttle) AS throttles,
       count(*) FILTER (s.fault) / count(*) AS fault_rate,
       quantile_cont(s.duration_ms, 0.95) AS p95_ms,
       count(DISTINCT s.trace_id) AS traces
FROM below b
JOIN seg s ON s.trace_id = b.trace_id AND s.segment_id = b.segment_id
WHERE s.namespace IN ('aws', 'remote')
GROUP BY ALL
ORDER BY b.state_name, calls DESC, service, operation
