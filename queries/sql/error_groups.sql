-- Failures of a period grouped by the signature of their root failure (root error + root state + cause
-- with ids, numbers, ARNs, UUIDs and timestamps masked; stored with each failure), new ones first, with
-- first/last seen over the whole lake (the error_signatures file: one small read, not every failure).
-- Params: $failure_files (see failed_executions), $start, $end, $domain, $state_machine_arn (NULL = all),
--   $error_signatures_glob, $bucket_s (width of the `counts` buckets, from $start), $buckets (how many).
WITH g AS (
    SELECT signature,
           any_value(root_error) AS error, any_value(root_state) AS root_state,
           any_value(root_cause) AS any_cause,
           count(*) AS count,
           count(DISTINCT state_machine_arn) AS machines,
           min(start_time) AS first_in_period,
           max(start_time) AS last_in_period,
           arg_max(root_cause, start_time) AS sample_cause,
           arg_max(execution_arn, start_time) AS sample_execution_arn,
           list(CAST(floor(epoch(start_time - $start::TIMESTAMPTZ) / $bucket_s) AS INTEGER)) AS offsets
    FROM failed_executions($failure_files::VARCHAR[], $start, $end, $domain, $state_machine_arn)
    GROUP BY signature
), seen AS (
    SELECT signature, min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM read_parquet($error_signatures_glob)
    WHERE ($domain IS NULL OR domain = $domain)
      AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
    GROUP BY signature
)
SELECT g.signature, error, root_state, cause_pattern(any_cause) AS cause_pattern, sample_cause, count, machines,
       least(first_in_period, seen.first_seen) AS first_seen,
       greatest(last_in_period, seen.last_seen) AS last_seen,
       [len(list_filter(offsets, lambda o: o = b)) FOR b IN range($buckets::INTEGER)] AS counts,
       least(first_in_period, seen.first_seen) >= $start AS is_new,
       sample_execution_arn
FROM g LEFT JOIN seen ON seen.signature = g.signature
ORDER BY is_new DESC, count DESC, g.signature
