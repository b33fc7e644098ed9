-- The newest collection runs (the `collection_runs` ledger), newest first: when each started and
-- finished, where its rows came from, and how many errors it recorded (a run with none is successful).
-- Params: $limit.
SELECT run_id, started_at, finished_at, source,
       coalesce(json_array_length(summary_json -> '$.errors'), 0)::INTEGER AS errors
FROM collection_runs($collection_runs_glob)
ORDER BY started_at DESC, run_id
LIMIT $limit
