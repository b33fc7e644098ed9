-- Per source (histories, metrics, ...): how many keys it keeps a position for, when the least and the most
-- recently collected of them were last covered, its lag (from the least recent), and keys whose last
-- attempt failed. Params: $now.
SELECT source, count(*) AS keys,
       min(last_collected_at) AS oldest_collected_at, max(last_collected_at) AS last_collected_at,
       date_diff('second', min(last_collected_at), $now::TIMESTAMPTZ) AS lag_s,
       count(last_error) AS failing_keys, any_value(last_error) FILTER (last_error IS NOT NULL) AS an_error
FROM cursors($cursors_glob)
GROUP BY source
ORDER BY source
