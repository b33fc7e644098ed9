-- p95 per UTC day and version of a state machine (or of every machine of a domain): how a latency
-- regression by version shows over time. One row per day, state machine and version (aliases merged:
-- the version is what ran); terminal executions and their exact p95 duration. A NULL version_arn is the
-- unqualified state machine. `date` (the partition: the UTC start date) is the day.
-- Params: $state_machine_arn (NULL = every machine of $domain), $domain (NULL = every domain), $start,
--   $end, $d0, $d1.
SELECT date::TIMESTAMPTZ AS day, state_machine_arn, state_machine_version_arn AS version_arn,
       count(*) AS executions,
       quantile_cont(duration_ms, 0.95) AS p95_ms
FROM executions($executions_glob)
WHERE date BETWEEN $d0 AND $d1
  AND start_time >= $start AND start_time < $end
  AND ($domain IS NULL OR domain = $domain)
  AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
  AND is_terminal
GROUP BY date, state_machine_arn, state_machine_version_arn
ORDER BY day, state_machine_arn, version_arn NULLS FIRST
