-- 0071 to 0070: pgscore.replicated_pending dropped, with the events it held back (not counted: their profiles'
-- counters and scores stay without them; run pgscore.retry_failed() before downgrading to count them).
DROP TABLE pgscore.replicated_pending;
