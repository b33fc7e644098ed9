-- Which versions (and aliases) of a state machine ran in the period, and how each did: per state machine,
-- version and alias, terminal executions, failures, failure rate, exact p50/p95 duration, and the first and
-- last start (over every execution started, running ones too: when the version took traffic). A NULL
-- version_arn is the unqualified state machine (no version); a NULL alias_arn, a start without an alias.
-- Params: $state_machine_arn (NULL = every machine of $domain), $domain (NULL = every domain), $start,
--   $end, $d0, $d1.
WITH per_version AS (
    SELECT state_machine_arn, any_value(state_machine_name) AS state_machine_name,
           state_machine_version_arn AS version_arn, state_machine_alias_arn AS alias_arn,
           count(*) FILTER (is_terminal) AS executions,
           count(*) FILTER (is_failed) AS failed,
           -- one exact quantile state for both levels: the durations are gathered and sorted once
           quantile_cont(duration_ms, [0.50, 0.95]) FILTER (is_terminal) AS q,
           min(start_time) AS first_start, max(start_time) AS last_start
    FROM executions($executions_glob)
    WHERE date BETWEEN $d0 AND $d1
      AND start_time >= $start AND start_time < $end
      AND ($domain IS NULL OR domain = $domain)
      AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
    GROUP BY state_machine_arn, state_machine_version_arn, state_machine_alias_arn
)
SELECT state_machine_arn, state_machine_name, version_arn, alias_arn, executions, failed,
       failed / nullif(executions, 0) AS failure_rate,
       q[1] AS p50_ms, q[2] AS p95_ms, first_start, last_start
FROM per_version
ORDER BY first_start, state_machine_arn, version_arn NULLS FIRST, alias_arn NULLS FIRST
