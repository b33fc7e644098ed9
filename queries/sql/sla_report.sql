-- SLA counts per domain, or with $by_machine per state machine, for a period: volumes, eventual and
-- first-attempt success, exact latency percentiles (p50, p95, p99) and executions within the key's
-- latency threshold. Finished executions only; those in a maintenance window are counted in
-- `excluded` only. Row by row: for lakes whose partitions lack facts or their runs; otherwise the
-- same counts come from the runs (queries/sla_runs.py with sla_edge_rows).
-- Params: $whole_files, $edge_files, $raw_files (see sla_rows), $start, $end (half-open), $domain (NULL = all),
--   $thr_keys with $thr_ms (latency threshold, ms) and $thr_since (its window start; NULL = $start) per
--   key, $thr_default_ms (keys not listed), $bounds (every threshold, ascending), $xd/$xm/$xs/$xe
--   (maintenance windows).
--
-- Each grouping reads its own sla_rows, the other one is switched off (no file opened): grouping by
-- a plain column keeps the per-row work of millions of rows lower than a key chosen per row.
-- Grouped by exclusion too (plain counts, no per-aggregate filters over millions of rows); the
-- excluded groups are set apart below.
WITH per AS (
    SELECT domain AS key, domain, NULL::VARCHAR AS arn, NULL::VARCHAR AS name, is_excluded,
           sla_counts(succeeded, redriven, duration_ms, $bounds::BIGINT[]) AS c
    FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $raw_files::VARCHAR[], $start, $end, $domain,
                  $by_machine, $thr_keys::VARCHAR[], $thr_since::TIMESTAMPTZ[],
                  $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[], NOT $by_machine)
    GROUP BY domain, is_excluded
    UNION ALL
    SELECT state_machine_arn, any_value(domain), state_machine_arn, any_value(state_machine_name), is_excluded,
           sla_counts(succeeded, redriven, duration_ms, $bounds::BIGINT[])
    FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $raw_files::VARCHAR[], $start, $end, $domain,
                  $by_machine, $thr_keys::VARCHAR[], $thr_since::TIMESTAMPTZ[],
                  $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[], $by_machine)
    GROUP BY state_machine_arn, is_excluded
)
SELECT per.key,
       any_value(per.domain) AS domain,
       any_value(per.arn) AS state_machine_arn,
       any_value(per.name) AS state_machine_name,
       coalesce(sum(c.n) FILTER (NOT is_excluded), 0)::BIGINT AS executions,
       coalesce(sum(c.ok) FILTER (NOT is_excluded), 0)::BIGINT AS succeeded,
       executions - succeeded AS failed,
       coalesce(sum(c.ok_first) FILTER (NOT is_excluded), 0)::BIGINT AS first_attempt_succeeded,
       coalesce(sum(c.redriven) FILTER (NOT is_excluded), 0)::BIGINT AS redriven,
       succeeded / nullif(executions, 0) AS success_rate,
       first_attempt_succeeded / nullif(executions, 0) AS first_attempt_success_rate,
       any_value(c.q) FILTER (NOT is_excluded) AS qs,
       qs[1] AS p50_ms, qs[2] AS p95_ms, qs[3] AS p99_ms,
       coalesce(sum(within_threshold(c.h, coalesce(thr.ms, $thr_default_ms))) FILTER (NOT is_excluded), 0)::BIGINT
           AS within_threshold,
       within_threshold / nullif(executions, 0) AS within_threshold_share,
       coalesce(sum(c.n) FILTER (is_excluded), 0)::BIGINT AS excluded
FROM per LEFT JOIN (SELECT unnest($thr_keys::VARCHAR[]) AS key, unnest($thr_ms::BIGINT[]) AS ms) thr ON thr.key = per.key
GROUP BY per.key, thr.ms
ORDER BY per.key
