-- Account-level headroom per Region and time bucket, each with its limit: open executions against
-- OpenExecutionLimit, open distributed map runs against OpenMapRunLimit, state transitions per second
-- (ConsumedCapacity of ServiceMetric=StateTransition over its period) against ProvisionedRefillRate,
-- and the transitions throttled (ThrottledEvents) with ProvisionedBucketSize (the burst). A bucket
-- holds the most of its datapoints (the sum, for throttled transitions). One scan of the account-level
-- partitions (domain NULL). Params: $start, $end, $d0, $d1, $bucket_s.
SELECT time_bucket(to_seconds($bucket_s::BIGINT), timestamp) AS bucket, region,
       max(value) FILTER (WHERE metric_name = 'OpenExecutionCount') AS open_executions,
       max(value) FILTER (WHERE metric_name = 'OpenExecutionLimit') AS open_executions_limit,
       max(value) FILTER (WHERE metric_name = 'ApproximateOpenMapRunCount') AS open_map_runs,
       max(value) FILTER (WHERE metric_name = 'OpenMapRunLimit') AS open_map_runs_limit,
       max(value / period_s) FILTER (WHERE metric_name = 'ConsumedCapacity') AS transitions_per_s,
       min(value) FILTER (WHERE metric_name = 'ProvisionedRefillRate') AS transitions_per_s_limit,
       sum(value) FILTER (WHERE metric_name = 'ThrottledEvents') AS throttled_transitions,
       min(value) FILTER (WHERE metric_name = 'ProvisionedBucketSize') AS throttled_transitions_limit
FROM metrics($metrics_files::VARCHAR[])
WHERE domain IS NULL AND date BETWEEN $d0 AND $d1
  AND timestamp >= $start AND timestamp < $end
  AND namespace = 'AWS/States'
  AND (dimensions = '{}' OR dimensions = '{"ServiceMetric":"StateTransition"}')
GROUP BY ALL
ORDER BY region, bucket
