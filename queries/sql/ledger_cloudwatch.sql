-- What CloudWatch counted per state machine and UTC day, the other side of the completeness ledger:
--   started   Sum of ExecutionsStarted. Every execution emits it twice (1, then 0): its SampleCount
--             counts each execution twice, its Sum once.
--   finished  Succeeded + Failed + Aborted + TimedOut, less the RedrivenExecutions* of the day: a
--             redriven execution emits both its RedrivenExecutions<Status> and the plain metric when
--             its redrive ends, so each execution is counted once, on the day it first ended.
--   redriven  Sum of ExecutionsRedriven.
-- Any period (60, 300, 3600 s) adds up to the same day. Whole days only, from the daily rollup (a Sum
-- series' day total is its value_sum). Params: $d0, $d1 (days), $domain (NULL = all).
SELECT state_machine_arn, date AS day,
       sum(value_sum) FILTER (WHERE metric_name = 'ExecutionsStarted') AS cloudwatch_started,
       coalesce(sum(value_sum) FILTER (WHERE metric_name IN ('ExecutionsSucceeded', 'ExecutionsFailed',
                                                             'ExecutionsAborted', 'ExecutionsTimedOut')), 0)
         - coalesce(sum(value_sum) FILTER (WHERE metric_name IN (
               'RedrivenExecutionsSucceeded', 'RedrivenExecutionsFailed', 'RedrivenExecutionsAborted',
               'RedrivenExecutionsTimedOut')), 0) AS cloudwatch_finished,
       coalesce(sum(value_sum) FILTER (WHERE metric_name = 'ExecutionsRedriven'), 0) AS cloudwatch_redriven
FROM metrics_daily($metrics_daily_glob)
WHERE date BETWEEN $d0 AND $d1 AND ($domain IS NULL OR domain = $domain)
  AND namespace = 'AWS/States' AND stat = 'Sum' AND state_machine_arn IS NOT NULL
GROUP BY ALL
