-- Exact duration distribution per state of one state machine in the period.
-- Params: $state_machine_arn, $domain, $start, $end, $d0, $d1.
WITH per_state AS (
    SELECT state_name, count(duration_ms) AS runs, avg(duration_ms) AS mean_ms,
           -- one exact quantile state for the four levels: the durations are gathered and sorted once
           quantile_cont(duration_ms, [0.50, 0.90, 0.95, 0.99]) AS q,
           q[1] AS p50_ms, q[2] AS p90_ms, q[3] AS p95_ms, q[4] AS p99_ms,
           max(duration_ms) AS max_ms
    FROM machine_state_runs($state_runs_glob, $state_machine_arn, $domain, $start, $end, $d0, $d1)
    GROUP BY state_name
)
SELECT * EXCLUDE (q) FROM per_state
ORDER BY p95_ms DESC NULLS LAST, state_name
