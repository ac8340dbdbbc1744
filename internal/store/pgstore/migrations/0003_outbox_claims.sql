-- 0003: senders claim outbox rows for a while, so that two replicas never send the same
-- reply at once. A row a sender claimed but never deleted (it died) is claimable again
-- once claimed_until has passed.
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;
