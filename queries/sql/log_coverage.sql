-- The machines whose histories are read from CloudWatch Logs (EXPRESS ones, and those with a cursor of
-- the logs source), with their logging configuration and that source's collection state.
-- Params: none.
SELECT m.state_machine_arn, m.name, m.domain, m.type, m.logging_level, m.include_execution_data,
       m.log_group_arn, c.last_collected_at, c.open_items AS open_executions,
       c.incomplete_items AS partial_executions, c.last_error
FROM state_machines($state_machines_glob) m
LEFT JOIN cursors($cursors_glob) c ON c.source = 'logs' AND c.key = m.state_machine_arn
WHERE m.type = 'EXPRESS' OR c.key IS NOT NULL
ORDER BY m.domain, m.name, m.state_machine_arn
