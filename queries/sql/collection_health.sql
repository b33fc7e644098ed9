-- Collection state per state machine: how fresh the data is and what is still pending.
-- Params: $now.
SELECT c.account_id, c.region, c.state_machine_arn, m.name, coalesce(c.domain, m.domain) AS domain,
       c.watermark, c.last_collected_at, c.open_executions, c.incomplete_histories, c.last_error,
       date_diff('second', c.last_collected_at, $now::TIMESTAMPTZ) AS lag_s
FROM collection_state($collection_state_glob) c
LEFT JOIN state_machines($state_machines_glob) m USING (state_machine_arn)
ORDER BY domain, m.name, c.state_machine_arn
