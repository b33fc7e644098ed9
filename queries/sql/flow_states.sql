-- Per state of one state machine: visits, executions, failures, caught errors, retries and exact
-- p50/p95 duration, over state runs entered in the period.
-- Params: $state_machine_arn, $domain (its domain, NULL = unknown), $start, $end, $d0, $d1.
WITH per_state AS (
    SELECT state_name, any_value(state_type) AS state_type, any_value(parent_state) AS parent_state,
           count(*) AS visits,
           count(DISTINCT execution_arn) AS executions,
           count(*) FILTER (status IN ('FAILED', 'TIMED_OUT', 'ABORTED')) AS failures,
           count(*) FILTER (status = 'CAUGHT') AS caught,
           coalesce(sum(greatest(attempts - 1, 0)), 0) AS retries,
           -- one exact quantile state for both levels: the durations are gathered and sorted once
           quantile_cont(duration_ms, [0.50, 0.95]) AS q,
           q[1] AS p50_ms, q[2] AS p95_ms
    FROM machine_state_runs($state_runs_glob, $state_machine_arn, $domain, $start, $end, $d0, $d1)
    GROUP BY state_name
)
SELECT * EXCLUDE (q) FROM per_state
ORDER BY visits DESC, state_name
