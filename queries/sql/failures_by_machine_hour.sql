-- Failed executions per state machine and hour of day (UTC) in a period.
-- Params: $failure_files (see failed_executions), $start, $end, $domain (NULL = all).
SELECT state_machine_arn, any_value(state_machine_name) AS state_machine_name, any_value(domain) AS domain,
       hour(start_time) AS hour, count(*) AS failures
FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, NULL)
GROUP BY state_machine_arn, hour
ORDER BY state_machine_arn, hour
