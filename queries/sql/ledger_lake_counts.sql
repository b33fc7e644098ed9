-- The executions the lake holds per state machine and start day, from file footers alone (no column
-- is read): the finished ones from the runs in each sla_facts footer (one run per state machine), and
-- every row of each executions partition. Where a partition holds more rows than its finished runs,
-- the rest are unfinished and ledger_unfinished counts them per machine from just those files.
-- Params: $facts_files, $execution_files (the period's partitions, lists of files).
WITH runs AS (
    SELECT regexp_extract(file_name, '/domain=([^/]*)/date=([^/]*)/[^/]*$', ['domain', 'date']) AS p,
           unnest(from_json(json_extract(decode(value), '$.runs'), '["json"]')) AS r
    FROM parquet_kv_metadata($facts_files::VARCHAR[])
    WHERE key = 'stepscope.sla_runs'
), finished AS (
    SELECT url_decode(p.domain) AS domain, p.date::DATE AS day, r ->> 0 AS state_machine_arn,
           (r ->> 2)::BIGINT AS finished
    FROM runs
), partition_rows AS (
    SELECT url_decode(p.domain) AS domain, p.date::DATE AS day, sum(num_rows)::BIGINT AS n
    FROM (SELECT regexp_extract(file_name, '/domain=([^/]*)/date=([^/]*)/[^/]*$', ['domain', 'date']) AS p,
                 num_rows
          FROM parquet_file_metadata($execution_files::VARCHAR[]))
    GROUP BY ALL
)
SELECT domain, day, state_machine_arn, finished, NULL::BIGINT AS partition_rows FROM finished
UNION ALL
SELECT domain, day, NULL, NULL, n FROM partition_rows
