-- Transitions taken between states of one state machine in the period.
-- Params: $state_machine_arn, $domain, $start, $end, $d0, $d1.
SELECT parent_state, state_name AS from_state, next_state AS to_state, count(*) AS count
FROM machine_state_runs($state_runs_glob, $state_machine_arn, $domain, $start, $end, $d0, $d1)
WHERE next_state IS NOT NULL
GROUP BY ALL
ORDER BY count DESC, from_state, to_state
