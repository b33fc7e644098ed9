-- Failed executions per failed state and day (UTC) in a period.
-- Params: $start, $end, $d0, $d1, $domain, $state_machine_arn (NULL = all).
SELECT date AS day, coalesce(failed_state, '(unknown)') AS failed_state, count(*) AS failures
FROM executions($executions_glob)
WHERE date BETWEEN $d0 AND $d1
  AND start_time >= $start AND start_time < $end
  AND ($domain IS NULL OR domain = $domain)
  AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
  AND is_failed
GROUP BY ALL
ORDER BY day, failed_state
