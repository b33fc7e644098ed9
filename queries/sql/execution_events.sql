-- The history events of one execution in id order. $domain/$day: its partition (NULL = search all).
-- Params: $execution_arn, $domain, $day.
SELECT event_id, previous_event_id, timestamp, type, state_name, details_json
FROM events($events_glob)
WHERE execution_arn = $execution_arn
  AND ($domain IS NULL OR domain = $domain)
  AND ($day::DATE IS NULL OR date = $day::DATE)
ORDER BY event_id
