-- ARN, name and domain of every state machine (optionally of one domain): what SLA keys are made of.
-- Params: $domain (NULL = all).
SELECT state_machine_arn, name, domain
FROM state_machines($state_machines_glob)
WHERE $domain IS NULL OR domain = $domain
ORDER BY domain, name, state_machine_arn
