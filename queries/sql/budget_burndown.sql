-- Finished executions and failures per day and state machine over an SLA window (for the burn-down
-- chart, which weighs each machine's executions by its own objective).
-- Params: $whole_files, $edge_files (see sla_rows), $start, $end, $domain,
--   $state_machine_arn (NULL = all), $xd/$xm/$xs/$xe.
-- `date` is the UTC start date (the partition): no time-zone-aware truncation per row.
SELECT date::TIMESTAMPTZ AS day, state_machine_arn, any_value(state_machine_name) AS state_machine_name,
       any_value(domain) AS domain, count(*) AS executions, count(*) FILTER (NOT succeeded) AS failed
FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $start, $end, $domain,
              false, []::VARCHAR[], []::TIMESTAMPTZ[], $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
WHERE NOT is_excluded AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
GROUP BY date, state_machine_arn
ORDER BY day, state_machine_arn
