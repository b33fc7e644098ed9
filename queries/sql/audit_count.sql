-- How many executions of a domain started in the period: the row count of audit_rows, without the rows.
-- Params: $domain, $start, $end, $d0, $d1.
SELECT count(*) AS executions
FROM executions($executions_glob)
WHERE date BETWEEN $d0 AND $d1
  AND start_time >= $start AND start_time < $end
  AND domain = $domain
