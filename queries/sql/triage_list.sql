-- The most recent failed, timed-out or aborted executions in a period, newest first.
-- Params: $failure_files (see failed_executions), $start, $end, $domain, $state_machine_arn
--   (NULL = all), $limit.
SELECT execution_arn, name, state_machine_arn, state_machine_name, domain, status, start_time, stop_time,
       duration_ms, failed_state, error, cause, redrive_count, redrive_status, redrive_status_reason,
       history_complete
FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, $state_machine_arn)
ORDER BY start_time DESC, execution_arn
LIMIT $limit
