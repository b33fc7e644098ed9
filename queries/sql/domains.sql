-- Every domain with its number of state machines and executions.
-- Params: none (globs only).
WITH m AS (
    SELECT domain, count(*) AS state_machines FROM state_machines($state_machines_glob) GROUP BY domain
), e AS (
    SELECT domain, n AS executions FROM executions_per_domain($executions_glob)
)
SELECT coalesce(m.domain, e.domain) AS domain,
       coalesce(m.state_machines, 0) AS state_machines,
       coalesce(e.executions, 0) AS executions
FROM m FULL OUTER JOIN e ON m.domain = e.domain
ORDER BY domain
