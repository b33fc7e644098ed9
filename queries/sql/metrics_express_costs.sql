-- Express state machines over [start, end): executions started, billed duration (ms, Sum of
-- ExpressExecutionBilledDuration) and the average billed memory (MB, weighted by executions), with
-- the estimated cost: billed GB-seconds at $gb_second_usd plus $request_usd per execution.
-- Params: $start, $end, $d0, $d1, $domain, $gb_second_usd, $request_usd.
WITH points AS (
    SELECT state_machine_arn, timestamp,
           sum(value) FILTER (WHERE metric_name = 'ExecutionsStarted' AND stat = 'Sum') AS started,
           sum(value) FILTER (WHERE metric_name = 'ExpressExecutionBilledDuration' AND stat = 'Sum') AS billed_ms,
           max(value) FILTER (WHERE metric_name = 'ExpressExecutionBilledMemory' AND stat = 'Average') AS memory_mb
    FROM metrics($metrics_files::VARCHAR[])
    WHERE date BETWEEN $d0 AND $d1 AND timestamp >= $start AND timestamp < $end
      AND ($domain IS NULL OR domain = $domain)
      AND namespace = 'AWS/States' AND state_machine_arn IS NOT NULL
      AND metric_name IN ('ExecutionsStarted', 'ExpressExecutionBilledDuration', 'ExpressExecutionBilledMemory')
    GROUP BY ALL
), per_machine AS (
    SELECT state_machine_arn,
           coalesce(sum(started), 0)::BIGINT AS executions,
           coalesce(sum(billed_ms), 0) AS billed_ms,
           sum(memory_mb * started) / nullif(sum(started) FILTER (WHERE memory_mb IS NOT NULL), 0) AS memory_mb,
           sum(billed_ms / 1000 * memory_mb / 1024) AS gb_seconds
    FROM points
    GROUP BY ALL
    HAVING count(billed_ms) > 0
)
SELECT state_machine_arn, executions, billed_ms, memory_mb, coalesce(gb_seconds, 0) AS gb_seconds,
       coalesce(gb_seconds, 0) * $gb_second_usd + executions * $request_usd AS estimated_cost_usd
FROM per_machine
ORDER BY estimated_cost_usd DESC, state_machine_arn
