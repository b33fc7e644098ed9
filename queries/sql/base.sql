-- Base layer: one table macro per lake table (read, rename, cast; no filtering) and the shared
-- expressions the questions use. Run once per connection. Each table macro takes the file glob
-- (bound by the loader as $<table>_glob); `domain` and `date` come from the Hive path.

-- is_failed repeats `<> 'SUCCEEDED'` on purpose: DuckDB pushes an IN list into the Parquet scan only
-- as an optional statistics check, a comparison as a real filter, so failure questions decode their
-- text columns (cause, ARNs) for the few failed rows instead of every row of the period.
CREATE OR REPLACE MACRO executions(g) AS TABLE
SELECT * EXCLUDE (input, output),
       status IN ('FAILED', 'TIMED_OUT', 'ABORTED') AND status <> 'SUCCEEDED' AS is_failed,
       status = 'SUCCEEDED' AS is_succeeded,
       status IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED') AS is_terminal
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

CREATE OR REPLACE MACRO state_runs(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

CREATE OR REPLACE MACRO events(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

CREATE OR REPLACE MACRO sla_facts(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

-- Executions per domain from the Parquet footers alone (their row counts): no column is read.
CREATE OR REPLACE MACRO executions_per_domain(g) AS TABLE
SELECT url_decode(regexp_extract(file_name, '/domain=([^/]*)/date=[^/]*/[^/]*$', 1)) AS domain,
       sum(num_rows)::BIGINT AS n
FROM parquet_file_metadata(g)
GROUP BY 1
HAVING sum(num_rows) > 0;

-- CloudWatch datapoints; series of no single domain (account level, shared functions) have a NULL domain.
CREATE OR REPLACE MACRO metrics(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

-- Their daily rollup, one file for the whole lake (lake/derived.py says what it keeps per statistic):
-- `domain` and `date` are columns, as the metrics partitions have them (DuckDB's types; no domain = NULL).
CREATE OR REPLACE MACRO metrics_daily(g) AS TABLE
SELECT * REPLACE (nullif(domain, '__HIVE_DEFAULT_PARTITION__') AS domain, date::DATE AS date)
FROM read_parquet(g);

-- metrics_daily rows of a period [t0, t1): its whole days (`days`, dates) from the rollup file `g`, its
-- partial days at the edges summed here from the datapoints in the period (edge_files: metrics files)
-- as lake/derived.py metrics_daily sums a day. A datapoint of a weighted series (`weighted`, entries
-- 'namespace/metric') is paired with the Sum datapoint of its count (`weights`, same position) at the
-- same account, Region, dimensions, period and time. Of one domain (NULL = all; the edge files are
-- the caller's to choose).
CREATE OR REPLACE MACRO metric_days(g, days, dom, edge_files, t0, t1, weighted, weights) AS TABLE
WITH points AS (
    SELECT *, weights[list_position(weighted, namespace || '/' || metric_name)] AS weight_metric
    FROM metrics(edge_files)
    WHERE timestamp >= t0 AND timestamp < t1
), counts AS (
    SELECT account_id, region, namespace, dimensions, period_s, timestamp, metric_name, value AS weight
    FROM points
    WHERE stat = 'Sum' AND list_contains(weights, metric_name)
)
SELECT p.domain, p.date, p.account_id, p.region, p.namespace, p.metric_name, p.stat, p.period_s,
       p.dimensions, p.unit, p.state_machine_arn, p.function_name,
       count(*)::BIGINT AS datapoints, sum(p.value) AS value_sum, min(p.value) AS value_min,
       max(p.value) AS value_max, sum(c.weight) AS weight_sum, sum(p.value * c.weight) AS weighted_sum
FROM points p
LEFT JOIN counts c
       ON c.metric_name = p.weight_metric AND c.account_id = p.account_id AND c.region = p.region
      AND c.namespace = p.namespace AND c.dimensions = p.dimensions AND c.period_s = p.period_s
      AND c.timestamp = p.timestamp
GROUP BY ALL
UNION ALL BY NAME
SELECT * FROM metrics_daily(g) WHERE list_contains(days, date) AND (dom IS NULL OR domain = dom);

-- X-Ray: traces, one row per segment and subsegment, and the executions without a trace (and why).
CREATE OR REPLACE MACRO traces(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

CREATE OR REPLACE MACRO trace_segments(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

CREATE OR REPLACE MACRO trace_lookups(g) AS TABLE
SELECT *
FROM read_parquet(g, hive_partitioning = true, hive_types = {'domain': 'VARCHAR', 'date': 'DATE'});

CREATE OR REPLACE MACRO state_machines(g) AS TABLE
SELECT * FROM read_parquet(g);

CREATE OR REPLACE MACRO cursors(g) AS TABLE
SELECT * FROM read_parquet(g);

CREATE OR REPLACE MACRO collection_runs(g) AS TABLE
SELECT * FROM read_parquet(g);

-- True when an execution falls in a maintenance window. The windows arrive as parallel lists:
-- xd = domain (NULL = any), xm = state machine ARN or name (NULL = any), [xs, xe) = period.
-- The lists are constants, so list_min/list_max cost once per vector; CASE runs the per-row list
-- lambda only for executions between the earliest start and the latest end (none when no window
-- overlaps the period), which keeps the check off the millions of other rows.
CREATE OR REPLACE MACRO excluded(dom, arn, nm, ts, xd, xm, xs, xe) AS
    CASE WHEN ts >= list_min(xs) AND ts < list_max(xe) THEN
        list_bool_or(list_transform(generate_series(1, len(xs)), lambda i:
            coalesce(xd[i] = dom, true) AND coalesce(xm[i] = arn OR xm[i] = nm, true)
            AND ts >= xs[i] AND ts < xe[i]))
    ELSE false END;

-- Executions started in [t0, t1), of one domain and one state machine (NULL = all).
CREATE OR REPLACE MACRO period_executions(g, t0, t1, dom, sm) AS TABLE
SELECT *
FROM executions(g)
WHERE start_time >= t0 AND start_time < t1
  AND (dom IS NULL OR domain = dom)
  AND (sm IS NULL OR state_machine_arn = sm);

-- The failed, timed-out and aborted ones among them: what the failure questions count, from the
-- `failures` partitions of the period (a list, not a glob: only those files are opened; about 1 row in
-- 100 of executions).
CREATE OR REPLACE MACRO failed_executions(failure_files, t0, t1, dom, sm) AS TABLE
SELECT * FROM period_executions(failure_files, t0, t1, dom, sm);

-- State runs of one state machine entered in [t0, t1) (days d0..d1), in its domain (NULL = unknown):
-- what the flow questions count.
CREATE OR REPLACE MACRO machine_state_runs(g, sm, dom, t0, t1, d0, d1) AS TABLE
SELECT *
FROM state_runs(g)
WHERE date BETWEEN d0 AND d1
  AND entered_time >= t0 AND entered_time < t1
  AND (dom IS NULL OR domain = dom)
  AND state_machine_arn = sm;

-- The finished executions an SLA figure counts, one row each, from two lists of sla_facts files (lists,
-- not a glob: DuckDB opens just those, with no directory listing or partition filter per query):
--   whole_files  days inside every window: narrow and sorted, cheap to decode;
--   edge_files   days where the start time decides (the period's last, a key's window start, a
--                maintenance window).
-- Edge rows count when started in [t0, t1) and after their key's own window start (since_keys/since_ts:
-- domain or, with by_machine, state machine ARN → start; t0 for keys not listed). Of one domain (NULL =
-- all); `date` is the partition (the UTC start date). is_excluded rows fall in a maintenance window
-- (xd/xm/xs/xe, see `excluded`): counted apart, left out of every figure.
CREATE OR REPLACE MACRO sla_rows(whole_files, edge_files, t0, t1, dom, by_machine, since_keys, since_ts,
                                 xd, xm, xs, xe) AS TABLE
SELECT domain, date, state_machine_arn, state_machine_name, succeeded, redriven, duration_ms, false AS is_excluded
FROM sla_facts(whole_files)
WHERE dom IS NULL OR domain = dom
UNION ALL
SELECT e.domain, e.date, e.state_machine_arn, e.state_machine_name, e.succeeded, e.redriven, e.duration_ms,
       excluded(e.domain, e.state_machine_arn, e.state_machine_name, e.start_time, xd, xm, xs, xe)
FROM sla_facts(edge_files) e
LEFT JOIN (SELECT unnest(since_keys) AS key, unnest(since_ts) AS since) w
       ON w.key = CASE WHEN by_machine THEN e.state_machine_arn ELSE e.domain END
WHERE e.start_time >= t0 AND e.start_time < t1 AND (dom IS NULL OR e.domain = dom)
  AND e.start_time >= coalesce(w.since, t0);

-- Cause text with the parts that vary between occurrences of the same failure replaced by
-- placeholders. Must match queries/signature.py (a test compares them).
CREATE OR REPLACE MACRO cause_pattern(c) AS
    left(trim(regexp_replace(
    regexp_replace(
    regexp_replace(
    regexp_replace(
    regexp_replace(
    regexp_replace(coalesce(c, ''),
        'arn:aws[A-Za-z-]*:[^\s"'',;)\]}]+', '<arn>', 'g'),
        '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', '<uuid>', 'g'),
        '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?', '<ts>', 'g'),
        '\b(0x)?[0-9A-Fa-f]*[0-9][0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\b|\b(0x)?[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*[0-9][0-9A-Fa-f]*\b', '<hex>', 'g'),
        '\d+(\.\d+)?', '<n>', 'g'),
        '\s+', ' ', 'g')), 300);

-- Short stable id of an error group.
CREATE OR REPLACE MACRO error_signature(err, state, pattern) AS
    left(md5(coalesce(err, '') || chr(31) || coalesce(state, '') || chr(31) || pattern), 12);
