-- State machines (optionally of one domain), with their definition.
-- Params: $domain (NULL = all).
SELECT state_machine_arn, name, domain, type, account_id, region, definition, revision_id, status,
       tags_json, role_arn, creation_date, description, logging_level, log_group_arn, tracing_enabled,
       collected_at
FROM state_machines($state_machines_glob)
WHERE $domain IS NULL OR domain = $domain
ORDER BY domain, name, state_machine_arn
