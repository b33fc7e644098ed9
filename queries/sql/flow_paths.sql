-- The most common top-level paths (states in entry order) of one state machine's executions.
-- Params: $state_machine_arn, $domain, $start, $end, $d0, $d1, $limit.
WITH p AS (
    SELECT execution_arn,
           string_agg(state_name, ' → ' ORDER BY entered_event_id) AS path,
           count(*) AS states,
           bool_or(status IN ('FAILED', 'TIMED_OUT', 'ABORTED')) AS failed
    FROM machine_state_runs($state_runs_glob, $state_machine_arn, $domain, $start, $end, $d0, $d1)
    WHERE parent_state IS NULL
    GROUP BY execution_arn
)
SELECT path, any_value(states) AS states, count(*) AS executions,
       count(*) / sum(count(*)) OVER () AS share,
       count(*) FILTER (failed) AS failed,
       min(execution_arn) AS sample_execution_arn
FROM p
GROUP BY path
ORDER BY executions DESC, path
LIMIT $limit
