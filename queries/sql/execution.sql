-- One execution by ARN. $domain and $day (partition hints, NULL = unknown) narrow the files read.
-- Params: $execution_arn, $domain, $day.
SELECT *
FROM executions($executions_glob)
WHERE execution_arn = $execution_arn
  AND ($domain IS NULL OR domain = $domain)
  AND ($day::DATE IS NULL OR date = $day::DATE)
LIMIT 1
