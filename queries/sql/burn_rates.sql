-- Terminal executions and failures per domain and per state machine in each trailing window
-- ending at $end (for multiwindow burn-rate alerts). The lists are in $window_starts order.
-- Params: $start (earliest window start), $end (now), $d0, $d1, $domain, $window_starts, $xd/$xm/$xs/$xe.
WITH e AS (
    SELECT domain, state_machine_arn, state_machine_name, start_time, is_succeeded
    FROM executions($executions_glob)
    WHERE date BETWEEN $d0 AND $d1
      AND start_time >= $start AND start_time < $end
      AND ($domain IS NULL OR domain = $domain)
      AND is_terminal
      AND NOT excluded(domain, state_machine_arn, state_machine_name, start_time,
                       $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
), w AS (
    SELECT unnest($window_starts::TIMESTAMPTZ[]) AS ws, generate_subscripts($window_starts::TIMESTAMPTZ[], 1) AS i
), counts AS (
    -- A range join: each execution meets only the windows it falls in (most fall in the longest
    -- one alone), rather than every window through a cross product.
    SELECT e.domain, e.state_machine_arn, any_value(e.state_machine_name) AS state_machine_name, w.i,
           count(*) AS n,
           count(*) FILTER (NOT e.is_succeeded) AS f
    FROM e JOIN w ON e.start_time >= w.ws
    GROUP BY GROUPING SETS ((e.domain, w.i), (e.domain, e.state_machine_arn, w.i))
), scopes AS (
    SELECT DISTINCT domain, state_machine_arn FROM counts
)
-- Every scope gets a figure for every window (0 where no execution fell in it).
SELECT s.domain, s.state_machine_arn,
       CASE WHEN s.state_machine_arn IS NOT NULL THEN any_value(c.state_machine_name) END AS state_machine_name,
       list(coalesce(c.n, 0) ORDER BY w.i) AS executions, list(coalesce(c.f, 0) ORDER BY w.i) AS failed
FROM scopes s CROSS JOIN w
LEFT JOIN counts c ON c.domain = s.domain AND c.state_machine_arn IS NOT DISTINCT FROM s.state_machine_arn AND c.i = w.i
GROUP BY s.domain, s.state_machine_arn
ORDER BY s.domain, s.state_machine_arn NULLS FIRST
