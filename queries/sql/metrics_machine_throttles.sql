-- StartExecution calls throttled (ExecutionThrottled) per state machine and time bucket; a machine with
-- none has no rows (a count with no datapoint is 0). Params: $start, $end, $d0, $d1, $bucket_s, $domain.
SELECT time_bucket(to_seconds($bucket_s::BIGINT), timestamp) AS bucket, state_machine_arn,
       sum(value) AS throttled
FROM metrics($metrics_files::VARCHAR[])
WHERE date BETWEEN $d0 AND $d1 AND timestamp >= $start AND timestamp < $end
  AND ($domain IS NULL OR domain = $domain)
  AND namespace = 'AWS/States' AND metric_name = 'ExecutionThrottled' AND stat = 'Sum'
  AND state_machine_arn IS NOT NULL
GROUP BY ALL
HAVING sum(value) > 0
ORDER BY state_machine_arn, bucket
