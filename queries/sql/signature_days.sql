-- The partitions (domain, date) that hold failures of one error group, newest first, with how many,
-- from the error_signatures file. Params: $error_signatures_glob, $signature, $domain (NULL = all).
SELECT domain, date, sum(failures) AS failures
FROM read_parquet($error_signatures_glob)
WHERE signature = $signature AND ($domain IS NULL OR domain = $domain)
GROUP BY domain, date
ORDER BY date DESC, domain
