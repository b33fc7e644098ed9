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
    SELECT e.domain, e.state_machine_arn, any_value(e.state_machine_name) AS state_machine_name, w.i,
           count(*) FILTER (e.start_time >= w.ws) AS n,
           count(*) FILTER (e.start_time >= w.ws AND NOT e.is_succeeded) AS f
    FROM e CROSS JOIN w
    GROUP BY GROUPING SETS ((e.domain, w.i), (e.domain, e.state_machine_arn, w.i))
)
SELECT domain, state_machine_arn, any_value(state_machine_name) AS state_machine_name,
       list(n ORDER BY i) AS executions, list(f ORDER BY i) AS failed
FROM counts
GROUP BY domain, state_machine_arn
ORDER BY domain, state_machine_arn NULLS FIRST
