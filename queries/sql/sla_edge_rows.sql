-- SLA counts of the rows read one by one (edge_files; see sla_rows) per state machine, each counted in
-- the window of its domain or, with $by_machine, its own (since_keys/since_ts). The days taken whole are
-- counted from their runs (queries/sla_runs.py), which adds the latency figures from `durations`
-- (sorted; missing ones left out). Params as in sla_rows.
SELECT state_machine_arn, any_value(domain) AS domain, any_value(state_machine_name) AS state_machine_name,
       count(*) FILTER (NOT is_excluded) AS executions,
       count(*) FILTER (NOT is_excluded AND succeeded) AS succeeded,
       count(*) FILTER (NOT is_excluded AND succeeded AND NOT redriven) AS first_attempt_succeeded,
       count(*) FILTER (NOT is_excluded AND redriven) AS redriven,
       count(*) FILTER (is_excluded) AS excluded,
       coalesce(list(duration_ms ORDER BY duration_ms) FILTER (NOT is_excluded AND duration_ms IS NOT NULL),
                []) AS durations
FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $start, $end, $domain,
              $by_machine, $since_keys::VARCHAR[], $since_ts::TIMESTAMPTZ[],
              $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
GROUP BY state_machine_arn
