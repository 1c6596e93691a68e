-- 0072 to 0073: pgscore.set_shadow checks that a profile table wired with counters has a column per feature of
-- the shadow, a float8[] column features beside them or not: the trigger reads such a table by name.
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
                   CASE WHEN NOT w.has_array OR coalesce(w.counters, '{}'::jsonb) <> '{}'::jsonb THEN NULL
                        WHEN cardinality(m.feature_names) <> cardinality(l.feature_names)
                        THEN format('its float8[] column features holds the %s features of live version %s, and version %s has %s',
                                    cardinality(l.feature_names), v_live.version, p_version, cardinality(m.feature_names))
                        -- read by position: as many features named otherwise, or in another order, would score the
                        -- live version's values as the shadow's own
                        ELSE (SELECT format('its float8[] column features holds the %s features of live version %s in its order, and version %s reads %L where it holds %L',
                                            cardinality(l.feature_names), v_live.version, p_version, f.shadow_name, f.live_name)
                                FROM unnest(m.feature_names, l.feature_names) WITH ORDINALITY AS f(shadow_name, live_name, i)
                               WHERE f.shadow_name IS DISTINCT FROM f.live_name ORDER BY f.i LIMIT 1)
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
COMMENT ON FUNCTION pgscore.set_shadow(text, integer, text, boolean) IS 'Score a version that is not live in shadow: next to the live one wherever that one''s scores are written (rescoring trigger, score_table), logged with source ''shadow'', never served (appends to pgscore.shadows); returns its model_id. Refused where this server cannot load it or a wired profile table cannot feed it, unless p_force';
