-- Failed executions per root-failure error and state machine in a period.
-- Params: $failure_files (see failed_executions), $start, $end, $domain (NULL = all).
SELECT coalesce(root_error, '(none)') AS root_error, state_machine_arn,
       any_value(state_machine_name) AS state_machine_name, count(*) AS failures
FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, NULL)
GROUP BY ALL
ORDER BY failures DESC, root_error, state_machine_arn
