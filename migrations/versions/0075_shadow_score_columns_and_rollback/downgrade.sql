-- 0075 to 0074: check_live_version_fed's text of 0074 (a loop for each kind of shadow refusal).
CREATE OR REPLACE FUNCTION pgscore.check_live_version_fed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    v_n integer := 0;
    v_first record;
    v_version integer;
    v_new boolean;
    v_signed boolean;
    v_shadows integer[];
    v_whys text[];
BEGIN
    -- a version the server would refuse to load, live: every score would fail (signing on and it unsigned, or
    -- signing off and it signed: fail closed). Only a version stored before the key changed can be either
    SELECT a.hmac_sha256 IS NOT NULL, m.version INTO v_signed, v_version
      FROM pgscore.artifacts a JOIN pgscore.models m ON m.model_id = a.model_id WHERE a.model_id = NEW.model_id;
    IF v_signed <> pgscore.signing_on() THEN  -- (no artifact: NULL, as scoring says)
        RAISE EXCEPTION 'version % of % is %, and this server %: once live, no call could score it', v_version,
                quote_literal(NEW.model_name), CASE WHEN v_signed THEN 'signed' ELSE 'not signed' END,
                CASE WHEN v_signed THEN 'has no signing key to verify it with' ELSE 'signs its models' END
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE WHEN v_signed
                      THEN 'start the server with the key it was signed with (pgscore db start --signing-key FILE, or PGSCORE_SIGNING_KEY_FILE), or deploy its artifact again without a key'
                      ELSE 'deploy its artifact again (pgscore deploy, or an alembic revision''s deploy_model), which has the server sign it, and make that version live'
                  END;
    END IF;
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
        -- a version stored in this transaction (deploy) is rolled back with it: deploy it again, not activate it
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, version % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing, v_version
            USING ERRCODE = 'undefined_column', DETAIL = format('%s wiring(s) affected', v_n),
                  HINT = CASE
                      WHEN NEW.action = 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      WHEN v_new THEN 'add the column(s) to the profile table first, then deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('add the column(s) to the profile table first, then activate version %s again', v_version)
                  END;
    END IF;
    -- a version scored in shadow now (the one made live is one no more) reads a wired profile table read by name (no
    -- float8[] column features, or counters) a column per feature, as set_shadow checks it against the tables wired
    -- then and attach_rescoring a table wired after it: one it lacks a column of (dropped since, a forced set_shadow,
    -- a table wired while no version was live) scores nothing in shadow next to the version made live
    v_n := 0;
    v_shadows := '{}';
    v_whys := '{}';
    FOR r IN
        SELECT w.profile_table, w.event_table, s.version,
               array_to_string(ARRAY(SELECT quote_literal(f.name) FROM unnest(s.feature_names) WITH ORDINALITY AS f(name, i)
                                      WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                         WHERE a.attrelid = to_regclass(w.profile_table)
                                                           AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                      ORDER BY f.i), ', ') AS missing
          FROM pgscore.rescoring w
          JOIN (SELECT v.version, m.feature_names FROM pgscore.shadow_versions v
                  JOIN pgscore.models m ON m.model_id = v.model_id
                 WHERE v.name = NEW.model_name AND v.model_id <> NEW.model_id) s ON true
         WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
           AND NOT (coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                   AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                   AND a.atttypid = 'float8[]'::regtype))
         ORDER BY 1, 2, 3
    LOOP
        CONTINUE WHEN r.missing = '';
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        IF NOT r.version = ANY (v_shadows) THEN
            v_shadows := v_shadows || r.version;
        END IF;
        v_whys := v_whys || format('%s has no column %s of version %s', r.profile_table, r.missing, r.version);
    END LOOP;
    IF v_n > 0 THEN
        SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION 'version % of % cannot be made live while version % is its shadow: %, which % rescores with %, has no column %, which the shadow reads by name; every INSERT into % would score nothing in shadow',
                v_version, quote_literal(NEW.model_name), v_first.version, v_first.profile_table, v_first.event_table,
                quote_literal(NEW.model_name), v_first.missing, v_first.event_table
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('%s wiring(s) and shadow version(s) affected: %s', v_n, array_to_string(v_whys, '; ')),
                  HINT = format('add the feature column(s) to the profile table first, or clear the shadow%s first: %s; then %s again',
                                CASE WHEN cardinality(v_shadows) > 1 THEN 's' ELSE '' END,
                                array_to_string(ARRAY(SELECT format('pgscore.clear_shadow(%L, %s) (pgscore shadow %s %s --off)',
                                                                    NEW.model_name, v.v, NEW.model_name, v.v)
                                                        FROM unnest(v_shadows) AS v(v) ORDER BY v.v), ', '),
                                CASE NEW.action WHEN 'rollback' THEN format('roll back to version %s', v_version)
                                                ELSE format('make version %s live', v_version) END);
    END IF;
    -- a version scored in shadow now (the one made live is one no more) reads a wired profile table's float8[] column
    -- features by position, as the live version does where the wiring has no counters: the array holds the live
    -- version's features in its order, and a shadow of other features or another order, checked against the old
    -- live version at set_shadow, would be scored on the new one's values in the wrong places
    v_n := 0;
    v_shadows := '{}';
    v_whys := '{}';
    FOR r IN
        SELECT w.profile_table, w.event_table, s.version, s.why
          FROM pgscore.rescoring w
          JOIN pgscore.models l ON l.model_id = NEW.model_id
          CROSS JOIN LATERAL (
                SELECT v.version, pgscore.feature_order_differs(m.feature_names, l.feature_names, l.version, v.version) AS why
                  FROM pgscore.shadow_versions v
                  JOIN pgscore.models m ON m.model_id = v.model_id
                 WHERE v.name = NEW.model_name AND v.model_id <> NEW.model_id) s
         WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL AND s.why IS NOT NULL
           AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
           AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                          AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                          AND a.atttypid = 'float8[]'::regtype)
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        -- every one named: a hint that named the first alone met the same refusal for the next once it was cleared
        IF NOT r.version = ANY (v_shadows) THEN
            v_shadows := v_shadows || r.version;
        END IF;
        v_whys := v_whys || format('%s''s float8[] column features %s', r.profile_table, r.why);
    END LOOP;
    IF v_n > 0 THEN
        SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        RAISE EXCEPTION 'version % of % cannot be made live while version % is its shadow: %, which % rescores with %, has one float8[] column features, which %; read by position, every INSERT into % would score the shadow on values that are not its features',
                v_version, quote_literal(NEW.model_name), v_first.version, v_first.profile_table, v_first.event_table,
                quote_literal(NEW.model_name), v_first.why, v_first.event_table
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s wiring(s) and shadow version(s) affected: %s', v_n, array_to_string(v_whys, '; ')),
                  HINT = format('clear the shadow%s first: %s, then %s again; '
                                'or wire a profile table of a column per feature (no float8[] column features), read by name',
                                CASE WHEN cardinality(v_shadows) > 1 THEN 's' ELSE '' END,
                                array_to_string(ARRAY(SELECT format('pgscore.clear_shadow(%L, %s) (pgscore shadow %s %s --off)',
                                                                    NEW.model_name, v.v, NEW.model_name, v.v)
                                                        FROM unnest(v_shadows) AS v(v) ORDER BY v.v), ', '),
                                CASE NEW.action WHEN 'rollback' THEN format('roll back to version %s', v_version)
                                                ELSE format('make version %s live', v_version) END);
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.check_live_version_fed() IS 'Trigger function: refuses a deployment that makes live a version whose features a profile table wired to rescore with its name lacks, or whose float8[] column features a version scored in shadow would read as other features';
