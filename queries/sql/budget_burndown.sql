-- Cumulative finished executions and failures per day over an SLA window (for the burn-down chart).
-- Params: $whole_files, $edge_files (see sla_rows), $start, $end, $domain,
--   $state_machine_arn (NULL = all), $xd/$xm/$xs/$xe.
WITH daily AS (
    -- `date` is the UTC start date (the partition): no time-zone-aware truncation per row.
    SELECT date::TIMESTAMPTZ AS day,
           count(*) AS n,
           count(*) FILTER (NOT succeeded) AS f
    FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $start, $end, $domain,
                  false, []::VARCHAR[], []::TIMESTAMPTZ[], $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
    WHERE NOT is_excluded AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
    GROUP BY date
), days AS (
    SELECT unnest(generate_series(date_trunc('day', $start::TIMESTAMPTZ), $end::TIMESTAMPTZ - INTERVAL 1 MICROSECOND,
                                  INTERVAL 1 DAY)) AS day
)
SELECT least(days.day + INTERVAL 1 DAY, $end::TIMESTAMPTZ) AS ts,
       sum(coalesce(n, 0)) OVER (ORDER BY days.day)::BIGINT AS executions,
       sum(coalesce(f, 0)) OVER (ORDER BY days.day)::BIGINT AS failed
FROM days LEFT JOIN daily USING (day)
ORDER BY ts
