-- Failed executions per state machine and hour of day (UTC) in a period, or, with $bucket_s, per time
-- bucket of that many seconds (`bucket`: its start; `hour` is then NULL), in time order.
-- Params: $failure_files (see failed_executions), $start, $end, $domain (NULL = all),
--   $bucket_s (NULL = by hour of day).
SELECT state_machine_arn, any_value(state_machine_name) AS state_machine_name, any_value(domain) AS domain,
       CASE WHEN $bucket_s IS NULL THEN hour(start_time) END AS hour,
       time_bucket(to_seconds($bucket_s::BIGINT), start_time) AS bucket,
       count(*) AS failures
FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, NULL)
GROUP BY state_machine_arn, hour, bucket
ORDER BY state_machine_arn, hour, bucket
