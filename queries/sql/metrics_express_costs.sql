-- Express state machines over [start, end): executions started, billed duration (ms, Sum of
-- ExpressExecutionBilledDuration) and the billed memory (MB, Average of ExpressExecutionBilledMemory,
-- weighted by the billed duration of each period), with the estimated cost: billed GB-seconds (each
-- period's billed duration x its billed memory) at $gb_second_usd plus $request_usd per execution. From
-- metric_days: the rollup for the whole days, the datapoints for the partial days at the edges.
-- Params: $start, $end, $days (the whole days), $edge_files (metrics files of the partial ones),
-- $weighted, $weights, $domain (NULL = all), $gb_second_usd, $request_usd.
WITH per_machine AS (
    SELECT state_machine_arn,
           coalesce(sum(value_sum) FILTER (WHERE metric_name = 'ExecutionsStarted' AND stat = 'Sum'), 0)::BIGINT
             AS executions,
           coalesce(sum(value_sum) FILTER (WHERE metric_name = 'ExpressExecutionBilledDuration' AND stat = 'Sum'), 0)
             AS billed_ms,
           sum(datapoints) FILTER (WHERE metric_name = 'ExpressExecutionBilledDuration' AND stat = 'Sum')
             AS billed_points,
           sum(weighted_sum) FILTER (WHERE metric_name = 'ExpressExecutionBilledMemory' AND stat = 'Average')
             AS mb_ms,
           sum(weight_sum) FILTER (WHERE metric_name = 'ExpressExecutionBilledMemory' AND stat = 'Average')
             AS memory_weight
    FROM metric_days($metrics_daily_glob, $days::DATE[], $domain, $edge_files::VARCHAR[], $start, $end,
                     $weighted::VARCHAR[], $weights::VARCHAR[])
    WHERE namespace = 'AWS/States' AND state_machine_arn IS NOT NULL
      AND metric_name IN ('ExecutionsStarted', 'ExpressExecutionBilledDuration', 'ExpressExecutionBilledMemory')
    GROUP BY ALL
    HAVING billed_points > 0
)
SELECT state_machine_arn, executions, billed_ms, mb_ms / nullif(memory_weight, 0) AS memory_mb,
       coalesce(mb_ms / 1000 / 1024, 0) AS gb_seconds,
       coalesce(mb_ms / 1000 / 1024, 0) * $gb_second_usd + executions * $request_usd AS estimated_cost_usd
FROM per_machine
ORDER BY estimated_cost_usd DESC, state_machine_arn
