-- 0022 to 0023: every deployment that makes a version live (deploy, activate, rollback, from SQL, the
-- command line, Python or an alembic revision) is refused when a profile table wired to rescore with the
-- model's name lacks one of the version's features. The command line and Python checked deploy,
-- activate and rollback themselves; pgscore.activate and pgscore.rollback called from SQL, and an
-- alembic revision's undeploy_model, did not.

-- sql/functions/deployments.sql
CREATE FUNCTION pgscore.check_live_version_fed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_first record;
    v_version integer;
BEGIN
    FOR r IN
        SELECT w.profile_table, w.event_table,
               array_to_string(ARRAY(SELECT quote_literal(x) FROM unnest(array_agg(f.name ORDER BY f.i)) x), ', ') AS missing
          FROM pgscore.rescoring w
          JOIN pgscore.models m ON m.model_id = NEW.model_id
         CROSS JOIN LATERAL unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
         WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                              AND a.attnum > 0 AND NOT a.attisdropped
                              AND (a.attname = f.name OR (a.attname = 'features' AND a.atttypid = 'float8[]'::regtype
                                                          AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)))
         GROUP BY w.profile_table, w.event_table
         ORDER BY 1, 2
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
    END LOOP;
    IF v_n > 0 THEN
        SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, version % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing, v_version
            USING ERRCODE = 'undefined_column', DETAIL = format('%s wiring(s) affected', v_n),
                  HINT = CASE NEW.action
                      WHEN 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      ELSE format('add the column(s) to the profile table first, then activate version %s again; a version being deployed can be stored without going live (--no-activate, p_activate => false)', v_version)
                  END;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_live_version_fed() IS 'Trigger function: refuses a deployment that makes live a version whose features a profile table wired to rescore with its name lacks';
REVOKE EXECUTE ON FUNCTION pgscore.check_live_version_fed() FROM PUBLIC;

-- sql/triggers/live_version_fed.sql
CREATE TRIGGER deployments_feed_wirings AFTER INSERT ON pgscore.deployments
    FOR EACH ROW WHEN (NEW.action IN ('deploy', 'rollback'))
    EXECUTE FUNCTION pgscore.check_live_version_fed();
