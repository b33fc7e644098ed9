-- Transitions taken between states of one state machine in the period.
-- Params: $state_machine_arn, $domain, $start, $end, $d0, $d1.
SELECT parent_state, state_name AS from_state, next_state AS to_state, count(*) AS count
FROM state_runs($state_runs_glob)
WHERE date BETWEEN $d0 AND $d1
  AND entered_time >= $start AND entered_time < $end
  AND ($domain IS NULL OR domain = $domain)
  AND state_machine_arn = $state_machine_arn
  AND next_state IS NOT NULL
GROUP BY ALL
ORDER BY count DESC, from_state, to_state
