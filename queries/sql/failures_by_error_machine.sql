-- Failed executions per error and state machine in a period.
-- Params: $start, $end, $d0, $d1, $domain (NULL = all).
SELECT coalesce(error, '(none)') AS error, state_machine_arn,
       any_value(state_machine_name) AS state_machine_name, count(*) AS failures
FROM executions($executions_glob)
WHERE date BETWEEN $d0 AND $d1
  AND start_time >= $start AND start_time < $end
  AND ($domain IS NULL OR domain = $domain)
  AND is_failed
GROUP BY ALL
ORDER BY failures DESC, error, state_machine_arn
