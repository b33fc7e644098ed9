-- Every segment and subsegment of one execution's X-Ray trace(s), by start. $domain/$day: its partition
-- (NULL = search all).
-- Params: $execution_arn, $domain, $day.
WITH mine AS (
    SELECT trace_id
    FROM traces($traces_glob)
    WHERE execution_arn = $execution_arn
      AND ($domain IS NULL OR domain = $domain)
      AND ($day::DATE IS NULL OR date = $day::DATE)
)
SELECT s.trace_id, s.segment_id, s.parent_id, s.name, s.origin, s.namespace, s.start_time, s.end_time,
       s.duration_ms, s.error, s.fault, s.throttle, s.http_status, s.aws_operation, s.resource_arn, s.state_name
FROM trace_segments($trace_segments_glob) s
WHERE s.trace_id IN (SELECT trace_id FROM mine)
  AND ($domain IS NULL OR s.domain = $domain)
  AND ($day::DATE IS NULL OR s.date = $day::DATE)
ORDER BY s.start_time, s.segment_id
