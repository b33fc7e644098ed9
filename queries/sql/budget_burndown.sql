-- Cumulative terminal executions and failures per day over an SLA window (for the burn-down chart).
-- Params: $start, $end, $d0, $d1, $domain, $state_machine_arn (NULL = all), $xd/$xm/$xs/$xe.
WITH daily AS (
    -- `date` is the UTC start date (the partition): no time-zone-aware truncation per row.
    SELECT date::TIMESTAMPTZ AS day,
           count(*) AS n,
           count(*) FILTER (NOT is_succeeded) AS f
    FROM executions($executions_glob)
    WHERE date BETWEEN $d0 AND $d1
      AND start_time >= $start AND start_time < $end
      AND ($domain IS NULL OR domain = $domain)
      AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
      AND is_terminal
      AND NOT excluded(domain, state_machine_arn, state_machine_name, start_time,
                       $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
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
