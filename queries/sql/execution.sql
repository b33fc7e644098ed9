-- One execution by ARN, with the signature of its root failure (the error group it belongs to; NULL
-- unless it failed, timed out or was aborted). $domain and $day (partition hints, NULL = unknown)
-- narrow the files read.
-- Params: $execution_arn, $domain, $day.
SELECT *,
       CASE WHEN is_failed THEN error_signature(root_error, root_state, cause_pattern(root_cause)) END
           AS signature
FROM executions($executions_glob)
WHERE execution_arn = $execution_arn
  AND ($domain IS NULL OR domain = $domain)
  AND ($day::DATE IS NULL OR date = $day::DATE)
LIMIT 1
