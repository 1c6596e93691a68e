-- 0078 to 0079: pgscore.score_columns_read, the check of a wired table's score and scored_at columns read as a
-- version's features (a profile table read by name), written once: set_shadow and the deployments' trigger
-- (check_live_version_fed) ask it where each ran the same query of its own (migration 0075), and attach_rescoring's
-- Python asks it too. Their refusals say the same words as before. Internal: granted to pgscore_admin.
CREATE FUNCTION pgscore.score_columns_read(p_model_id bigint, p_rescoring_id bigint DEFAULT NULL)
RETURNS TABLE (rescoring_id bigint, profile_table text, event_table text, what text, column_name name, said text)
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_name text;
    v_features text[];
BEGIN
    IF p_model_id IS NULL THEN
        RAISE EXCEPTION 'pgscore.score_columns_read: model_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT m.name, m.feature_names INTO v_name, v_features FROM pgscore.models m WHERE m.model_id = p_model_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pgscore.score_columns_read: there is no model_id %', p_model_id
            USING ERRCODE = 'undefined_object',
                  HINT = 'list the versions and their model_id with: SELECT * FROM pgscore.model_versions';
    END IF;
    IF p_rescoring_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgscore.rescoring w WHERE w.rescoring_id = p_rescoring_id AND w.model_name = v_name) THEN
        RAISE EXCEPTION 'pgscore.score_columns_read: there is no wiring % that rescores with %', p_rescoring_id,
                quote_literal(v_name)
            USING ERRCODE = 'undefined_object',
                  HINT = 'list the wirings with: SELECT rescoring_id, event_table, profile_table, model_name FROM pgscore.rescoring';
    END IF;
    RETURN QUERY
        SELECT w.rescoring_id, w.profile_table, w.event_table, c.what, c.col,
               format('%s.%s (the %s column %s rescores into)', w.profile_table, c.col, c.what, w.event_table)
          FROM pgscore.rescoring w
         CROSS JOIN LATERAL (VALUES ('score', w.score_column), ('scored_at', w.scored_at_column)) AS c(what, col)
         WHERE w.model_name = v_name AND to_regclass(w.profile_table) IS NOT NULL
           AND CASE WHEN p_rescoring_id IS NULL
                    THEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
                    ELSE w.rescoring_id = p_rescoring_id END
           AND c.col = ANY (v_features)
           AND NOT (coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                    AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                   AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                   AND a.atttypid = 'float8[]'::regtype))
         ORDER BY 2, 3, 4;
END
$fn$;
COMMENT ON FUNCTION pgscore.score_columns_read(bigint, bigint) IS 'Internal: the score and scored_at columns of tables wired to rescore with a version''s name, read by name, that the version reads as features (one row each, and the words every refusal of it says); with p_rescoring_id, that wiring alone, its trigger made or not';
REVOKE EXECUTE ON FUNCTION pgscore.score_columns_read(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.score_columns_read(bigint, bigint) TO pgscore_admin;

CREATE OR REPLACE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL,
                                   p_force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET pgscore.allow_version_mismatch = off
AS $fn$
DECLARE
    v_model_id bigint;
    v_live record;
    v_refusal text;
    v_fix text;
    v_n integer := 0;
    v_first record;
    v_columns text[];
    r record;
BEGIN
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model, activate, rollback and retire take it): the live
    -- version read below is the one this shadow will be scored next to
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = 'list models with: SELECT * FROM pgscore.model_versions';
    END IF;
    SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
            USING ERRCODE = 'undefined_object', HINT = 'deploy it first: pgscore deploy --no-activate';
    END IF;
    SELECT d.deployment_id, d.model_id, d.action, m.version, m.feature_names INTO v_live
      FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND OR v_live.action = 'retire' THEN
        RAISE EXCEPTION 'model % has no live version%: a shadow is scored next to the live one, where that one''s scores are written',
                quote_literal(p_name), CASE WHEN FOUND THEN ' (it was retired)' ELSE '' END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'activate a version first: pgscore.activate(name, version)';
    END IF;
    IF v_live.model_id = v_model_id THEN
        RAISE EXCEPTION 'version % of % is its live version: it cannot be its own shadow', p_version, quote_literal(p_name)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'name a version that is not live (SELECT version, live FROM pgscore.model_versions WHERE name = ...)';
    END IF;
    IF EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = p_name AND s.model_id = v_model_id) THEN
        RAISE NOTICE 'version % of % is a shadow already: nothing was changed', p_version, quote_literal(p_name);
        RETURN v_model_id;
    END IF;
    -- p_force (pgscore shadow --force) skips the two checks below, as activate's skips its load: a shadow
    -- they would refuse scores where it can, and its failures elsewhere are counted (pgscore.shadow_failures)
    IF NOT p_force THEN
        -- a version this server cannot load (unsigned where it signs, written with other library versions, damaged)
        -- would fail at every statement it shadows: refused now, with the loader's own reason (the override off,
        -- whatever this session set: the function's SET, as activate's; other sessions score it)
        v_refusal := format('version %s of %s cannot be loaded by this server, so it cannot shadow version %s: ',
                            p_version, quote_literal(p_name), v_live.version);
        v_fix := format('to set it anyway (it scores nothing while this server cannot load it): '
                        'pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                        p_name, p_version, p_name, p_version);
        PERFORM pgscore.load_or_refuse(v_model_id, v_refusal, v_fix);
        -- every table wired to rescore with the name must feed it, as check_live_version_fed asks of a live version:
        -- a profile table without one of its features (a wiring with counters reads it by name, a float8[] column
        -- features beside never), or whose float8[] column features (which the shadow reads where there is one and
        -- no counters) holds the live version's features, read from it too, and another
        -- count, would have every INSERT into the event table score nothing in shadow; as many features named
        -- otherwise or in another order, score every profile on values that are not its features. Wirings whose
        -- trigger or profile table is gone feed nothing and block nothing
        FOR r IN
            WITH w AS (
                SELECT w.profile_table, w.event_table, w.counters,
                       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                  AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                  AND a.atttypid = 'float8[]'::regtype) AS has_array
                  FROM pgscore.rescoring w
                 WHERE w.model_name = p_name AND to_regclass(w.profile_table) IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal))
            SELECT w.profile_table, w.event_table,
                   array_to_string(ARRAY(SELECT quote_literal(f.name)
                                           FROM unnest(m.feature_names) WITH ORDINALITY AS f(name, i)
                                          WHERE NOT (w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb)
                                            AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS missing,
                   -- read by position: as many features named otherwise, or in another order, would score the
                   -- live version's values as the shadow's own
                   CASE WHEN NOT w.has_array OR coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb THEN NULL
                        ELSE 'its float8[] column features '
                             || pgscore.feature_order_differs(m.feature_names, l.feature_names, v_live.version, p_version)
                   END AS miscounted,
                   w.has_array AND coalesce(w.counters, '{}'::jsonb) = '{}'::jsonb
                       AND cardinality(m.feature_names) = cardinality(l.feature_names)
                       AND m.feature_names IS DISTINCT FROM l.feature_names AS reordered
              FROM w
              JOIN pgscore.models m ON m.model_id = v_model_id
              JOIN pgscore.models l ON l.model_id = v_live.model_id
             ORDER BY 1, 2
        LOOP
            IF r.missing <> '' OR r.miscounted IS NOT NULL THEN
                v_n := v_n + 1;
                IF v_n = 1 THEN
                    v_first := r;
                END IF;
            END IF;
        END LOOP;
        IF v_n > 0 THEN
            RAISE EXCEPTION 'version % of % cannot shadow version %: %, which % rescores with %, %; every INSERT into % would score %',
                    p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.event_table,
                    quote_literal(p_name), CASE WHEN v_first.missing <> '' THEN 'has no column ' || v_first.missing
                                                ELSE v_first.miscounted END, v_first.event_table,
                    CASE WHEN v_first.missing = '' AND v_first.reordered
                         THEN 'it in shadow on values that are not its features' ELSE 'nothing in shadow' END
                USING ERRCODE = CASE WHEN v_first.missing <> '' THEN 'undefined_column' ELSE 'object_not_in_prerequisite_state' END,
                      DETAIL = format('%s wiring(s) affected', v_n),
                      -- (a profile table's float8[] column features is read wherever there is one: columns added
                      -- beside it would not be)
                      HINT = format('%s; or detach the wiring (pgscore.detach_rescoring); or set it anyway, to score '
                                    'where it can (pgscore score of a table that has %s) with the others counted as '
                                    'failures: pgscore.set_shadow(%L, %s, p_force => true) (pgscore shadow %s %s --force)',
                                    CASE WHEN v_first.missing <> ''
                                         THEN 'add the feature column(s) to the profile table first, then set the shadow again'
                                         ELSE format('shadow a version trained on the %s features of live version %s in its order, '
                                                     'or wire a profile table of a column per feature (no float8[] column features)',
                                                     cardinality(v_live.feature_names), v_live.version) END,
                                    CASE WHEN v_first.missing <> '' THEN 'them' ELSE 'a column per feature' END,
                                    p_name, p_version, p_name, p_version);
        END IF;
    END IF;
    -- a wired profile table read by name (no float8[] column features, or counters) whose score or scored_at column
    -- the shadow reads: every INSERT would score it on the score the live version just wrote, and made live it would
    -- feed its own output back in (attach_rescoring refuses such a column of the live version, the deployments'
    -- trigger of a version made live). Not skipped by p_force: such a shadow never fails, and no count would say
    -- that its scores are not the ones it would score live. The check is pgscore.score_columns_read, which the
    -- deployments' trigger and attach_rescoring ask too
    v_n := 0;
    v_columns := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.what, c.column_name AS col, c.said
          FROM pgscore.score_columns_read(v_model_id) AS c
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_columns := v_columns || r.said;
    END LOOP;
    IF v_n > 0 THEN
        RAISE EXCEPTION 'version % of % cannot shadow version %: %.%, the % column % rescores with % into, is one of its features; every INSERT into % would score the shadow on the live version''s new score, and once live it would feed its own output back in',
                p_version, quote_literal(p_name), v_live.version, v_first.profile_table, v_first.col, v_first.what,
                v_first.event_table, quote_literal(p_name), v_first.event_table
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s column(s) affected: %s', v_n, array_to_string(v_columns, ', ')),
                  HINT = format('shadow a version that does not read %s.%s, or wire the table''s score and scored_at to '
                                'columns no version of %s reads (pgscore.detach_rescoring(%L), then '
                                'pgscore.attach_rescoring(...) again)',
                                v_first.profile_table, v_first.col, quote_literal(p_name), v_first.event_table);
    END IF;
    -- failures counted in an earlier spell as a shadow are not this one's; a row a session is counting into now
    -- (its transaction open) is left, never waited for: that session may wait for this one's next, on another of
    -- its rows, and a deadlock would fail its INSERT (0062)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x WHERE x.model_id = v_model_id
                                 FOR UPDATE SKIP LOCKED));
    -- changed_by: the caller's role (this function runs as its owner, whom current_user names), as record_outcome
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason, changed_by)
    VALUES (p_name, v_model_id, 'start', v_live.deployment_id, p_reason,
            coalesce(nullif(current_setting('role'), 'none'), session_user));
    RETURN v_model_id;
END
$fn$;

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
    v_columns text[];
    v_detail text;
    v_clear text;
    v_s text;
    v_again text;
    v_before integer;
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
    -- a wired profile table read by name (no float8[] column features, or counters) whose score or scored_at column
    -- is one of the version's features: each rescoring would write its score into a feature its next read fed back
    -- in. attach_rescoring refuses it of the version live then, set_shadow of a shadow: not of a version made live
    -- after the table was wired. The check is pgscore.score_columns_read, which all three ask
    v_n := 0;
    v_columns := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.what, c.column_name AS col, c.said
          FROM pgscore.score_columns_read(NEW.model_id) AS c
         ORDER BY 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_columns := v_columns || r.said;
    END LOOP;
    IF v_n > 0 THEN
        -- (the version read again: the signing check's read finds none for a version without an artifact)
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        v_again := format('wire the table''s score and scored_at to columns version %s does not read first '
                          '(pgscore.detach_rescoring(%L), then pgscore.attach_rescoring(...) again), then ',
                          v_version, v_first.event_table);
        RAISE EXCEPTION 'version % of % cannot be made live: %.%, the % column % rescores with % into, is one of its features; each rescoring would feed its own output back in',
                v_version, quote_literal(NEW.model_name), v_first.profile_table, v_first.col, v_first.what,
                v_first.event_table, quote_literal(NEW.model_name)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s column(s) affected: %s', v_n, array_to_string(v_columns, ', ')),
                  HINT = v_again || CASE
                      WHEN NEW.action = 'rollback' THEN format('roll back again (version %s)', v_version)
                      WHEN v_new THEN 'deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('activate version %s again', v_version)
                  END;
    END IF;
    -- a version scored in shadow now (the one made live is one no more) reads each wired profile table as the live
    -- version does. Read by name (no float8[] column features, or counters): a column per feature, as set_shadow
    -- checks it against the tables wired then and attach_rescoring a table wired after it; one it lacks a column of
    -- (dropped since, a forced set_shadow, a table wired while no version was live) scores nothing in shadow next to
    -- the version made live ('missing'). Read by position (the array, no counters): the array holds the live
    -- version's features in its order, and a shadow of other features or another order, checked against the old
    -- live version at set_shadow, would be scored on the new one's values in the wrong places ('order'). One row
    -- per kind: how many wirings and shadows, the first (by table, then version), every shadow named (a hint that
    -- named the first alone met the same refusal for the next once it was cleared), and each one's why
    SELECT m.version INTO v_version FROM pgscore.models m WHERE m.model_id = NEW.model_id;
    FOR r IN
        WITH w AS (
            SELECT w.profile_table, w.event_table,
                   coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb
                   OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.profile_table)
                                     AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'features'
                                     AND a.atttypid = 'float8[]'::regtype) AS by_name
              FROM pgscore.rescoring w
             WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
               AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)),
        s AS (
            SELECT v.version, m.feature_names FROM pgscore.shadow_versions v
              JOIN pgscore.models m ON m.model_id = v.model_id
             WHERE v.name = NEW.model_name AND v.model_id <> NEW.model_id),
        found AS (
            SELECT 'missing' AS kind, w.profile_table, w.event_table, s.version,
                   array_to_string(ARRAY(SELECT quote_literal(f.name) FROM unnest(s.feature_names) WITH ORDINALITY AS f(name, i)
                                          WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                                             WHERE a.attrelid = to_regclass(w.profile_table)
                                                               AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = f.name)
                                          ORDER BY f.i), ', ') AS what
              FROM w CROSS JOIN s
             WHERE w.by_name
            UNION ALL
            SELECT 'order', w.profile_table, w.event_table, s.version,
                   pgscore.feature_order_differs(s.feature_names, l.feature_names, l.version, s.version)
              FROM w CROSS JOIN s JOIN pgscore.models l ON l.model_id = NEW.model_id
             WHERE NOT w.by_name)
        SELECT f.kind, count(*)::integer AS n,
               (array_agg(f.profile_table ORDER BY f.profile_table, f.event_table, f.version))[1] AS profile_table,
               (array_agg(f.event_table ORDER BY f.profile_table, f.event_table, f.version))[1] AS event_table,
               (array_agg(f.version ORDER BY f.profile_table, f.event_table, f.version))[1] AS version,
               (array_agg(f.what ORDER BY f.profile_table, f.event_table, f.version))[1] AS what,
               array_agg(DISTINCT f.version ORDER BY f.version) AS shadows,
               array_agg(CASE f.kind WHEN 'missing' THEN format('%s has no column %s of version %s', f.profile_table, f.what, f.version)
                                     ELSE format('%s''s float8[] column features %s', f.profile_table, f.what) END
                         ORDER BY f.profile_table, f.event_table, f.version) AS whys
          FROM found f
         WHERE f.what <> ''  -- (the order's NULL: read as its own)
         GROUP BY f.kind
         ORDER BY f.kind  -- a missing column first
    LOOP
        v_detail := format('%s wiring(s) and shadow version(s) affected: %s', r.n, array_to_string(r.whys, '; '));
        v_clear := array_to_string(ARRAY(SELECT format('pgscore.clear_shadow(%L, %s) (pgscore shadow %s %s --off)',
                                                       NEW.model_name, v.v, NEW.model_name, v.v)
                                           FROM unnest(r.shadows) AS v(v) ORDER BY v.v), ', ');
        v_s := CASE WHEN cardinality(r.shadows) > 1 THEN 's' ELSE '' END;
        v_again := CASE NEW.action WHEN 'rollback' THEN format('roll back to version %s', v_version)
                                   ELSE format('make version %s live', v_version) END;
        IF r.kind = 'missing' THEN
            -- a shadow read by name lacks its column whichever version is live: next to the version live before a
            -- rollback it scored nothing already, and the rollback (the way back in an emergency) makes nothing worse:
            -- let through, with a WARNING that names the shadows and their clear_shadow. Refused where no version
            -- was live before (never, or retired): the shadow would begin failing only now. activate and a deploy
            -- are planned, and refused: clearing the shadow first costs nothing there
            IF NEW.action = 'rollback' THEN
                SELECT CASE WHEN d.action <> 'retire' THEN m.version END INTO v_before
                  FROM pgscore.deployments d JOIN pgscore.models m ON m.model_id = d.model_id
                 WHERE d.model_name = NEW.model_name AND d.deployment_id < NEW.deployment_id
                 ORDER BY d.deployment_id DESC LIMIT 1;
                IF v_before IS NOT NULL THEN
                    RAISE WARNING 'pgscore.rollback: version % of % was made live by a rollback while version % is its shadow: %, which % rescores with %, has no column %, which the shadow reads by name; every INSERT into % scores nothing in shadow, as it did next to version %',
                            v_version, quote_literal(NEW.model_name), r.version, r.profile_table, r.event_table,
                            quote_literal(NEW.model_name), r.what, r.event_table, v_before
                        USING DETAIL = v_detail,
                              HINT = format('add the feature column(s) to the profile table, or clear the shadow%s: %s',
                                            v_s, v_clear);
                    CONTINUE;
                END IF;
                v_detail := v_detail || '; no version was live before this rollback (never made live, or retired): '
                                     || 'the shadow would begin failing only now';
            END IF;
            RAISE EXCEPTION 'version % of % cannot be made live while version % is its shadow: %, which % rescores with %, has no column %, which the shadow reads by name; every INSERT into % would score nothing in shadow',
                    v_version, quote_literal(NEW.model_name), r.version, r.profile_table, r.event_table,
                    quote_literal(NEW.model_name), r.what, r.event_table
                USING ERRCODE = 'undefined_column', DETAIL = v_detail,
                      HINT = format('add the feature column(s) to the profile table first, or clear the shadow%s first: '
                                    '%s; then %s again', v_s, v_clear, v_again);
        END IF;
        RAISE EXCEPTION 'version % of % cannot be made live while version % is its shadow: %, which % rescores with %, has one float8[] column features, which %; read by position, every INSERT into % would score the shadow on values that are not its features',
                v_version, quote_literal(NEW.model_name), r.version, r.profile_table, r.event_table,
                quote_literal(NEW.model_name), r.what, r.event_table
            USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = v_detail,
                  HINT = format('clear the shadow%s first: %s, then %s again; or wire a profile table of a column per '
                                'feature (no float8[] column features), read by name', v_s, v_clear, v_again);
    END LOOP;
    RETURN NULL;
END
$fn$;
