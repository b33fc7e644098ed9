-- Per Lambda function over [start, end): invocations, errors, throttles (sums), the average and
-- longest duration, and p95_ms: the periods' p95 averaged with their invocations as weights (a p95
-- over the whole period cannot be had from per-period percentiles; this is the typical one). mean_ms is
-- the periods' Average weighted the same way. From metric_days: the rollup for the whole days, the
-- datapoints for the partial days at the edges. Params: $start, $end, $days (the whole days),
-- $edge_files (metrics files of the partial ones), $weighted, $weights, $functions (names; NULL = all).
SELECT function_name,
       coalesce(sum(value_sum) FILTER (WHERE metric_name = 'Invocations' AND stat = 'Sum'), 0)::BIGINT AS invocations,
       coalesce(sum(value_sum) FILTER (WHERE metric_name = 'Errors' AND stat = 'Sum'), 0)::BIGINT AS errors,
       coalesce(sum(value_sum) FILTER (WHERE metric_name = 'Throttles' AND stat = 'Sum'), 0)::BIGINT AS throttles,
       sum(weighted_sum) FILTER (WHERE metric_name = 'Duration' AND stat = 'Average')
         / nullif(sum(weight_sum) FILTER (WHERE metric_name = 'Duration' AND stat = 'Average'), 0) AS mean_ms,
       sum(weighted_sum) FILTER (WHERE metric_name = 'Duration' AND stat = 'p95')
         / nullif(sum(weight_sum) FILTER (WHERE metric_name = 'Duration' AND stat = 'p95'), 0) AS p95_ms,
       max(value_max) FILTER (WHERE metric_name = 'Duration' AND stat = 'Maximum') AS max_ms
FROM metric_days($metrics_daily_glob, $days::DATE[], NULL, $edge_files::VARCHAR[], $start, $end,
                 $weighted::VARCHAR[], $weights::VARCHAR[])
WHERE namespace = 'AWS/Lambda' AND function_name IS NOT NULL
  AND metric_name IN ('Invocations', 'Errors', 'Throttles', 'Duration')
  AND ($functions IS NULL OR list_contains($functions::VARCHAR[], function_name))
GROUP BY ALL
ORDER BY function_name
