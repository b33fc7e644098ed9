-- Per Lambda function over [start, end): invocations, errors, throttles (sums), the average and
-- longest duration, and p95_ms: the periods' p95 averaged with their invocations as weights (a p95
-- over the whole period cannot be had from per-period percentiles; this is the typical one).
-- Params: $start, $end, $d0, $d1, $functions (names; NULL = all).
WITH points AS (
    SELECT function_name, timestamp, period_s,
           sum(value) FILTER (WHERE metric_name = 'Invocations' AND stat = 'Sum') AS invocations,
           sum(value) FILTER (WHERE metric_name = 'Errors' AND stat = 'Sum') AS errors,
           sum(value) FILTER (WHERE metric_name = 'Throttles' AND stat = 'Sum') AS throttles,
           max(value) FILTER (WHERE metric_name = 'Duration' AND stat = 'Average') AS avg_ms,
           max(value) FILTER (WHERE metric_name = 'Duration' AND stat = 'p95') AS p95_ms,
           max(value) FILTER (WHERE metric_name = 'Duration' AND stat = 'Maximum') AS max_ms
    FROM metrics($metrics_files::VARCHAR[])
    WHERE date BETWEEN $d0 AND $d1 AND timestamp >= $start AND timestamp < $end
      AND namespace = 'AWS/Lambda' AND function_name IS NOT NULL
      AND ($functions IS NULL OR list_contains($functions::VARCHAR[], function_name))
    GROUP BY ALL
)
SELECT function_name,
       coalesce(sum(invocations), 0)::BIGINT AS invocations,
       coalesce(sum(errors), 0)::BIGINT AS errors,
       coalesce(sum(throttles), 0)::BIGINT AS throttles,
       sum(avg_ms * invocations) / nullif(sum(invocations) FILTER (WHERE avg_ms IS NOT NULL), 0) AS mean_ms,
       sum(p95_ms * invocations) / nullif(sum(invocations) FILTER (WHERE p95_ms IS NOT NULL), 0) AS p95_ms,
       max(max_ms) AS max_ms
FROM points
GROUP BY ALL
ORDER BY function_name
