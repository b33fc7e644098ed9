-- Size and time span of the lake: executions, first/last start, domains, state machines.
-- Params: none (globs only).
SELECT
    (SELECT count(*) FROM executions($executions_glob)) AS executions,
    (SELECT min(start_time) FROM executions($executions_glob)) AS first_start,
    (SELECT max(start_time) FROM executions($executions_glob)) AS last_start,
    (SELECT count(DISTINCT domain) FROM (
        SELECT domain FROM state_machines($state_machines_glob)
        UNION ALL SELECT DISTINCT domain FROM executions($executions_glob))) AS domains,
    (SELECT count(*) FROM state_machines($state_machines_glob)) AS state_machines
