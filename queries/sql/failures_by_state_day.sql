-- Failed executions per root-failure state and day (UTC) in a period.
-- Params: $failure_files (see failed_executions), $start, $end, $domain, $state_machine_arn
--   (NULL = all).
SELECT date AS day, coalesce(root_state, '(unknown)') AS root_state, count(*) AS failures
FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, $state_machine_arn)
GROUP BY ALL
ORDER BY day, root_state
