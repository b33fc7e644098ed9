-- Size and time span of the lake: executions, first/last start, domains, state machines.
-- Params: $first_date, $last_date (the oldest and newest executions partitions; NULL without any).
-- One pass for the counts; the time span reads only the two end partitions, since an execution's
-- partition date is its UTC start date (the earliest and latest starts are there).
WITH per_domain AS (
    SELECT domain, n FROM executions_per_domain($executions_glob)
), span AS (
    SELECT min(start_time) AS first_start, max(start_time) AS last_start
    FROM executions($executions_glob)
    WHERE date IN ($first_date::DATE, $last_date::DATE)
), machines AS (
    SELECT domain FROM state_machines($state_machines_glob)
)
SELECT
    (SELECT coalesce(sum(n), 0) FROM per_domain)::BIGINT AS executions,
    (SELECT first_start FROM span) AS first_start,
    (SELECT last_start FROM span) AS last_start,
    (SELECT count(DISTINCT domain) FROM (
        SELECT domain FROM machines UNION ALL SELECT domain FROM per_domain)) AS domains,
    (SELECT count(*) FROM machines) AS state_machines
