-- The most recent failed, timed-out or aborted executions in a period, newest first, with their root
-- failure (the state whose failure ended the execution) and its error signature beside the terminal error.
-- Params: $failure_files (see failed_executions), $start, $end, $domain, $state_machine_arn,
--   $signature (of one error group; NULL = all), $limit.
SELECT execution_arn, name, state_machine_arn, state_machine_name, domain, status, start_time, stop_time,
       duration_ms, root_state, root_path, root_error, root_cause, failed_state, error, cause,
       signature, redrive_count, redrive_status, redrive_status_reason, history_complete
FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, $state_machine_arn)
WHERE $signature::VARCHAR IS NULL OR signature = $signature
ORDER BY start_time DESC, execution_arn
LIMIT $limit
