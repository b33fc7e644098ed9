-- The state runs of one execution in event order. $domain/$day: its partition (NULL = search all).
-- Params: $execution_arn, $domain, $day.
SELECT entered_event_id, exited_event_id, state_name, state_type, parent_state, iteration, entered_time,
       exited_time, duration_ms, attempts, status, error, cause, resource, next_state
FROM state_runs($state_runs_glob)
WHERE execution_arn = $execution_arn
  AND ($domain IS NULL OR domain = $domain)
  AND ($day::DATE IS NULL OR date = $day::DATE)
ORDER BY entered_event_id
