-- One row per execution of a domain started in the period, in a stable order, for the audit export.
-- sla_met: succeeded within the machine's latency threshold; NULL when not terminal or excluded.
-- Params: $domain, $start, $end, $d0, $d1, $thr_keys/$thr_ms (per state machine ARN), $thr_default_ms,
--   $xd/$xm/$xs/$xe (exclusions), $limit (NULL = every row), $after_ts/$after_arn (only rows after this
--   (start_time, execution_arn): the next page; NULL = from the start).
WITH thr AS (
    SELECT unnest($thr_keys::VARCHAR[]) AS key, unnest($thr_ms::BIGINT[]) AS ms
)
SELECT e.account_id, e.region, e.domain, e.state_machine_arn, e.state_machine_version_arn,
       e.state_machine_alias_arn, e.execution_arn, e.name, e.status, e.start_time, e.stop_time, e.duration_ms,
       e.error, e.cause, e.failed_state, e.redrive_count, e.input_sha256, e.output_sha256, e.trace_id,
       e.event_count, e.history_complete,
       CASE WHEN NOT e.is_terminal
                 OR excluded(e.domain, e.state_machine_arn, e.state_machine_name, e.start_time,
                             $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[]) THEN NULL
            ELSE e.is_succeeded AND coalesce(e.duration_ms <= coalesce(thr.ms, $thr_default_ms::BIGINT), true)
       END AS sla_met
FROM executions($executions_glob) e LEFT JOIN thr ON thr.key = e.state_machine_arn
WHERE e.date BETWEEN $d0 AND $d1
  AND e.start_time >= $start AND e.start_time < $end
  AND e.domain = $domain
  AND ($after_ts IS NULL OR e.start_time > $after_ts OR (e.start_time = $after_ts AND e.execution_arn > $after_arn))
ORDER BY e.start_time, e.execution_arn
LIMIT $limit
