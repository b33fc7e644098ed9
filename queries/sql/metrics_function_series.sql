-- One Lambda function's datapoints over [start, end), one row per datapoint time: invocations, errors,
-- throttles, p95 and longest duration (ms). Params: $function, $start, $end, $d0, $d1.
SELECT timestamp, max(period_s) AS period_s,
       coalesce(sum(value) FILTER (WHERE metric_name = 'Invocations' AND stat = 'Sum'), 0) AS invocations,
       coalesce(sum(value) FILTER (WHERE metric_name = 'Errors' AND stat = 'Sum'), 0) AS errors,
       coalesce(sum(value) FILTER (WHERE metric_name = 'Throttles' AND stat = 'Sum'), 0) AS throttles,
       max(value) FILTER (WHERE metric_name = 'Duration' AND stat = 'p95') AS p95_ms,
       max(value) FILTER (WHERE metric_name = 'Duration' AND stat = 'Maximum') AS max_ms
FROM metrics($metrics_files::VARCHAR[])
WHERE date BETWEEN $d0 AND $d1 AND timestamp >= $start AND timestamp < $end
  AND namespace = 'AWS/Lambda' AND function_name = $function
GROUP BY ALL
ORDER BY timestamp
