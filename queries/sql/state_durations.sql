-- Exact duration distribution per state of one state machine in the period.
-- Params: $state_machine_arn, $domain, $start, $end, $d0, $d1.
SELECT state_name, count(duration_ms) AS runs, avg(duration_ms) AS mean_ms,
       quantile_cont(duration_ms, 0.50) AS p50_ms, quantile_cont(duration_ms, 0.90) AS p90_ms,
       quantile_cont(duration_ms, 0.95) AS p95_ms, quantile_cont(duration_ms, 0.99) AS p99_ms,
       max(duration_ms) AS max_ms
FROM state_runs($state_runs_glob)
WHERE date BETWEEN $d0 AND $d1
  AND entered_time >= $start AND entered_time < $end
  AND ($domain IS NULL OR domain = $domain)
  AND state_machine_arn = $state_machine_arn
GROUP BY state_name
ORDER BY p95_ms DESC NULLS LAST, state_name
