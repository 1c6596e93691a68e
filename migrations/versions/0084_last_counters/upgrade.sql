-- 0083 to 0084: last counters. attach_rescoring takes {"last": expression over each event e} (and an optional
-- "by" ordering the events): the value of the newest event of each profile in the statement, by the wiring's event
-- id column or by "by". The rules are checked by the code (py_src/pgscore/rescoring.py); the column's comment,
-- which lists them, names the new one.
COMMENT ON COLUMN pgscore.rescoring.counters IS 'Profile column -> rule: "count", {"add"|"max"|"min": expression over each event e}, {"set": aggregate over the new events}, {"last": expression over each event e, "by": optional expression ordering the events (default: the event id column)}, {"window": interval, "time": column}, {"recompute": aggregate over all of the entity''s events}';
