-- 0084 to 0083: the comment on pgscore.rescoring.counters as 0004 wrote it (a wiring with a last counter stays in
-- the table: its trigger needs the code of 0084 or later).
COMMENT ON COLUMN pgscore.rescoring.counters IS 'Profile column -> rule: "count", {"add"|"max"|"min": expression over each event e}, {"set": aggregate over the new events}, {"window": interval, "time": column}, {"recompute": aggregate over all of the entity''s events}';
