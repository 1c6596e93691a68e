-- 0084 to 0083: the comment on pgscore.rescoring.counters as 0004 wrote it. Refused while a wiring holds a last
-- counter: the code of 0083 knows no such rule, and its trigger would refuse every INSERT into that event table
-- (or queue each profile) until the wiring is attached again with a set counter, the rule a last one stands for.
DO $do$
DECLARE
    v_which text;
BEGIN
    SELECT string_agg(format('%s (%s)', w.event_table, c.key), ', ' ORDER BY w.event_table, c.key)
      INTO v_which
      FROM pgscore.rescoring w, jsonb_each(w.counters) c
     WHERE jsonb_typeof(c.value) = 'object' AND c.value ? 'last';
    IF v_which IS NOT NULL THEN
        RAISE EXCEPTION 'wirings hold last counters, which revision 0083 does not know: %', v_which
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'detach them (pgscore.detach_rescoring) and attach them again with a set counter in each '
                         'last one''s place, {"set": "(pg_catalog.array_agg((expr) ORDER BY e.id DESC))[1]"}, then '
                         'downgrade';
    END IF;
END
$do$;
COMMENT ON COLUMN pgscore.rescoring.counters IS 'Profile column -> rule: "count", {"add"|"max"|"min": expression over each event e}, {"set": aggregate over the new events}, {"window": interval, "time": column}, {"recompute": aggregate over all of the entity''s events}';
