-- Failed executions per failed state and day (UTC) in a period.
-- Params: $start, $end, $d0, $d1, $domain, $state_machine_arn (NULL = all).
SELECT date AS day, coalesce(failed_state, '(unknown)') AS failed_state, count(*) AS failures
FROM failed_executions($executions_glob, $start, $end, $d0, $d1, $domain, $state_machine_arn)
GROUP BY ALL
ORDER BY day, failed_state
