-- The domain of one state machine (to narrow reads to its partitions).
-- Params: $state_machine_arn.
SELECT domain FROM state_machines($state_machines_glob)
WHERE state_machine_arn = $state_machine_arn
LIMIT 1
