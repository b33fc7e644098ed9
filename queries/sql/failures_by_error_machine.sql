-- Failed executions per error and state machine in a period.
-- Params: $start, $end, $d0, $d1, $domain (NULL = all).
SELECT coalesce(error, '(none)') AS error, state_machine_arn,
       any_value(state_machine_name) AS state_machine_name, count(*) AS failures
FROM failed_executions($executions_glob, $start, $end, $d0, $d1, $domain, NULL)
GROUP BY ALL
ORDER BY failures DESC, error, state_machine_arn
