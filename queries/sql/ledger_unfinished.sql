-- Unfinished executions (running, pending a redrive) per state machine and start day, read from the
-- few executions partitions whose footers say they hold some. Params: $files (a list of files).
SELECT domain, date AS day, state_machine_arn, count(*)::BIGINT AS unfinished
FROM executions($files::VARCHAR[])
WHERE NOT is_terminal
GROUP BY ALL
