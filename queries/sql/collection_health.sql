-- Collection state per state machine (the cursors of the histories source, and the per-machine ones of the
-- logs source: EXPRESS machines): how fresh the data is and what is still pending. Params: $now.
SELECT c.account_id, c.region, c.key AS state_machine_arn, m.name, coalesce(c.domain, m.domain) AS domain,
       c.watermark, c.last_collected_at, c.open_items AS open_executions, c.incomplete_items AS incomplete_histories,
       c.last_error, date_diff('second', c.last_collected_at, $now::TIMESTAMPTZ) AS lag_s
FROM cursors($cursors_glob) c
LEFT JOIN state_machines($state_machines_glob) m ON m.state_machine_arn = c.key
WHERE c.source = 'histories' OR (c.source = 'logs' AND m.state_machine_arn IS NOT NULL)
ORDER BY domain, m.name, c.key
