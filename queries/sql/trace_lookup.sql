-- Why one execution has no trace: its trace_lookups row (PENDING, NOT_SAMPLED, EXPIRED), if any.
-- Params: $execution_arn, $domain, $day (its partition, NULL = search all).
SELECT status, trace_id, attempts, first_looked_at, last_looked_at
FROM trace_lookups($trace_lookups_glob)
WHERE execution_arn = $execution_arn
  AND ($domain IS NULL OR domain = $domain)
  AND ($day::DATE IS NULL OR date = $day::DATE)
LIMIT 1
