-- SLA counts of the rows read one by one (edge_files; see sla_rows) per key: domain or,
-- with $by_machine, state machine ARN. The days taken whole are counted from their runs
-- (queries/sla_runs.py), which adds the latency figures from `durations` (sorted; missing ones left
-- out). Params as in sla_report.
SELECT CASE WHEN $by_machine THEN state_machine_arn ELSE domain END AS key, any_value(domain) AS domain,
       CASE WHEN $by_machine THEN any_value(state_machine_arn) END AS state_machine_arn,
       CASE WHEN $by_machine THEN any_value(state_machine_name) END AS state_machine_name,
       count(*) FILTER (NOT is_excluded) AS executions,
       count(*) FILTER (NOT is_excluded AND succeeded) AS succeeded,
       count(*) FILTER (NOT is_excluded AND succeeded AND NOT redriven) AS first_attempt_succeeded,
       count(*) FILTER (NOT is_excluded AND redriven) AS redriven,
       count(*) FILTER (is_excluded) AS excluded,
       coalesce(list(duration_ms ORDER BY duration_ms) FILTER (NOT is_excluded AND duration_ms IS NOT NULL),
                []) AS durations
FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $start, $end, $domain,
              $by_machine, $thr_keys::VARCHAR[], $thr_since::TIMESTAMPTZ[],
              $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
GROUP BY key
