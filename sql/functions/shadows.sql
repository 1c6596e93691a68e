/*
 * Why a shadow version reading the live version's features out of one
 * float8[] column by position would read other features than its own: the
 * order check of a shadow, written once. set_shadow and the deployments'
 * trigger (check_live_version_fed) call it; the Python code that runs where
 * the schema may be older (the rescoring trigger's plans, score_table,
 * attach_rescoring: pgscore.shadowing.order_differs) says the same words,
 * which tests/test_shadow.py compares. NULL where the two lists are the same
 * names in the same order; else "holds the 3 features of live version 1, and
 * version 2 has 4", or "holds the 3 features of live version 1 in its order,
 * and version 2 reads 'b' where it holds 'a'". Reads no table: IMMUTABLE
 * (textcat and quote_literal(text) only: format is STABLE).
 */
CREATE FUNCTION pgscore.feature_order_differs(p_shadow_features text[], p_live_features text[],
                                              p_live_version integer, p_shadow_version integer)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_shadow text;
    v_live text;
BEGIN
    IF p_shadow_features IS NULL OR p_live_features IS NULL OR p_live_version IS NULL OR p_shadow_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.feature_order_differs: both versions'' feature names and version numbers must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF array_position(p_shadow_features, NULL) IS NOT NULL OR array_position(p_live_features, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore.feature_order_differs: a feature name of version % or % is NULL',
                p_shadow_version, p_live_version
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'pass each version''s feature_names (pgscore.models), which name every feature';
    END IF;
    IF cardinality(p_shadow_features) <> cardinality(p_live_features) THEN
        RETURN 'holds the ' || cardinality(p_live_features)::text || ' features of live version '
               || p_live_version::text || ', and version ' || p_shadow_version::text || ' has '
               || cardinality(p_shadow_features)::text;
    END IF;
    -- by position, whatever the arrays' lower bounds (array_position above takes one dimension alone)
    SELECT f.shadow_name, f.live_name INTO v_shadow, v_live
      FROM unnest(p_shadow_features, p_live_features) WITH ORDINALITY AS f(shadow_name, live_name, i)
     WHERE f.shadow_name <> f.live_name ORDER BY f.i LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN 'holds the ' || cardinality(p_live_features)::text || ' features of live version ' || p_live_version::text
           || ' in its order, and version ' || p_shadow_version::text || ' reads ' || quote_literal(v_shadow)
           || ' where it holds ' || quote_literal(v_live);
END
$fn$;
COMMENT ON FUNCTION pgscore.feature_order_differs(text[], text[], integer, integer) IS 'Why a shadow version reading the live version''s features out of one float8[] column by position would read other features than its own (another count, or the first feature named otherwise); NULL where it reads its own';

/*
 * The score and scored_at columns of the tables wired to rescore with a
 * version's name that the version reads as features, where the profile table
 * is read by name (no float8[] column features, or counters): each rescoring
 * would feed it the score just written (a shadow: the live version's; made
 * live: its own). The check written once: set_shadow refuses such a shadow,
 * the deployments' trigger (check_live_version_fed) such a go-live, and
 * attach_rescoring (pgscore.rescoring._score_columns_read) such a wiring of
 * the live version or of a shadow; each refusal's DETAIL lists `said`. Wirings
 * whose trigger or profile table is gone feed nothing and are left out; with
 * p_rescoring_id, that wiring alone, its trigger made or not (attach_rescoring
 * checks the wiring before it creates the trigger). Reads the registry and
 * the catalogs: STABLE.
 */
-- (migration 0176) the wirings of v_name alone (of p_rescoring_id alone, where given), in a subquery the planner does not merge (OFFSET 0), before
-- to_regclass resolves their tables' names: another team's wiring in a schema the caller may not use raised
-- `permission denied for schema ...` for every deploy and go-live (check_live_version_fed calls it)
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
               format('%s.%I (the %s column %s rescores into)', w.profile_table, c.col, c.what, w.event_table)
          FROM (SELECT x.* FROM pgscore.rescoring x
                 WHERE x.model_name = v_name AND (p_rescoring_id IS NULL OR x.rescoring_id = p_rescoring_id)
                OFFSET 0) w
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

/*
 * Shadow scoring: a version scored next to the live one of its name, on the
 * rows the live one writes (the rescoring trigger, score_table), its scores
 * logged under its own model_id with source 'shadow' and never served. Each
 * call appends a row to pgscore.shadows; pgscore.shadow_versions lists the
 * current ones. Both run as their owner (SECURITY DEFINER): pgscore.shadows
 * is written through them alone, after set_shadow's checks (no role but the
 * owner may INSERT into it), and each row names the caller's role. Both take
 * the name's row of pgscore.model_locks, as every change of a model does
 * (register_model, activate, rollback, retire): a set_shadow never checks
 * against a live version an activate or rollback in progress replaces.
 * set_shadow loads the version with pgscore.allow_version_mismatch off,
 * whatever the caller's session set, as activate does: other sessions score
 * it (clear_shadow loads nothing, and reads no setting).
 */
CREATE FUNCTION pgscore.set_shadow(p_name text, p_version integer, p_reason text DEFAULT NULL,
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
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.set_shadow writes pgscore.shadows');
    END IF;
    IF p_name IS NULL OR p_version IS NULL OR p_force IS NULL THEN
        RAISE EXCEPTION 'pgscore.set_shadow: model name, version and p_force must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one change at a time per model (as register_model, activate, rollback and retire take it): the live
    -- version read below is the one this shadow will be scored next to
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
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
                  -- (review r4 of session 71) the model named, and pg_catalog's = (pasted into a superuser's psql
                  -- session whose search_path puts the owner's public first, a plain = ran the owner's on text)
                  HINT = 'name a version that is not live (SELECT version, live FROM pgscore.model_versions WHERE name '
                         'OPERATOR(pg_catalog.=) ' || quote_literal(p_name) || ')';
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
COMMENT ON FUNCTION pgscore.set_shadow(text, integer, text, boolean) IS 'Score a version that is not live in shadow: next to the live one wherever that one''s scores are written (rescoring trigger, score_table), logged with source ''shadow'', never served (appends to pgscore.shadows); returns its model_id. Refused where this server cannot load it or a wired profile table cannot feed it, unless p_force; and where it reads a wired profile table''s score or scored_at column';

CREATE FUNCTION pgscore.clear_shadow(p_name text, p_version integer DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
    v_n integer;
BEGIN
    -- (session 66) a standby, or a read-only transaction, refuses its writes: said so, with where to run it, as
    -- record_outcome since 0154 (it was PostgreSQL's bare 25006, no hint)
    IF current_setting('transaction_read_only') = 'on' THEN
        PERFORM pgscore.refuse_read_only('pgscore.clear_shadow writes pgscore.shadows');
    END IF;
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.clear_shadow: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO pgscore.model_locks AS l (name) VALUES (p_name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name;
    IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN
        -- (migration 0124: with scoring's hint, the model it looks like a typo for; it said where they are listed)
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object',
            HINT = pgscore.model_name_hint(p_name);
    END IF;
    IF p_version IS NOT NULL THEN
        SELECT m.model_id INTO v_model_id FROM pgscore.models m WHERE m.name = p_name AND m.version = p_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there is no version % of model %', p_version, quote_literal(p_name)
                USING ERRCODE = 'undefined_object',
                      HINT = 'list the shadows with: SELECT * FROM pgscore.shadow_versions (or pgscore status)';
        END IF;
    END IF;
    INSERT INTO pgscore.shadows (model_name, model_id, action, reason, changed_by)
    SELECT s.name, s.model_id, 'stop', p_reason, coalesce(nullif(current_setting('role'), 'none'), session_user)
      FROM pgscore.shadow_versions s
     WHERE s.name = p_name AND (v_model_id IS NULL OR s.model_id = v_model_id)
     ORDER BY s.version;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    -- the failures counted while they were shadows (pgscore.shadow_failures) go with their marks, but a row a
    -- session is counting into now, which is never waited for (as at set_shadow)
    DELETE FROM pgscore.shadow_failures f
     WHERE f.ctid = ANY (ARRAY(SELECT x.ctid FROM pgscore.shadow_failures x JOIN pgscore.models m ON m.model_id = x.model_id
                                WHERE m.name = p_name AND (v_model_id IS NULL OR x.model_id = v_model_id)
                                  FOR UPDATE OF x SKIP LOCKED));
    IF v_n = 0 THEN
        RAISE NOTICE '% has no shadow%: nothing was changed', CASE WHEN p_version IS NULL
            THEN 'model ' || quote_literal(p_name) ELSE format('version %s of %s', p_version, quote_literal(p_name)) END,
            CASE WHEN p_version IS NULL THEN ' version' ELSE ' mark' END;
    END IF;
    RETURN v_n;
END
$fn$;
COMMENT ON FUNCTION pgscore.clear_shadow(text, integer, text) IS 'Stop scoring a version (or, without one, every version) of a model in shadow (appends to pgscore.shadows); returns how many stopped';

/*
 * A shadow's failure counted: the rescoring trigger and score_table call it,
 * as the role that scores, for each statement or chunk in which a version
 * scored in shadow did not score (pgscore.shadowing.failed): one more
 * statement and p_profiles more profiles or rows in this backend's row of the
 * version, table and SQLSTATE, with the newest reason. Runs as its owner: no
 * other role writes pgscore.shadow_failures (pgscore_app held INSERT and
 * UPDATE on it, and could forge or zero the counts pgscore status reports, any
 * backend's); a caller can add to its own backend's row of a version scored in
 * shadow, nothing else. A version that is no shadow now (cleared or made live
 * since the statement read the shadows) is not counted: false. Takes no lock
 * of the name: set_shadow and clear_shadow skip a row being counted into
 * rather than wait for it, and it never waits for them. Nor for a transaction
 * this backend PREPAREd (PREPARE TRANSACTION: a two_phase subscription's
 * apply worker, an application's two-phase commit) that counted into its row:
 * that one holds the row until COMMIT PREPARED, which this backend may be the
 * one to run after this statement, and waiting for it never ended (the apply
 * worker stalled). Each count takes the transaction-level advisory lock
 * (hashtext('pgscore.shadow_failures'), pid), which PREPARE hands on to the
 * prepared transaction with the row's; while one holds it, the count goes to
 * the backend's second row (backend_pid -pid, its lock likewise); with that
 * held too, nothing is counted (NULL) where a prepared transaction holds a
 * lock on the table, and else the count goes to the backend's row: any login
 * may take those advisory locks, and holding both silenced a backend's counts.
 * p_relation must be a table the calling role (SET ROLE's, else the login:
 * current_user is this function's owner) may UPDATE, as the rescoring trigger
 * writes its profile table and score_table its table as that role: else 42501
 * and nothing counted (0134; before, any app login could count failures of any
 * shadow in any relation, one it could not read, and make a candidate version
 * look broken). Within those tables the counts stay the caller's word: it may
 * make the shadow fail there for real, by the rows it writes. The name is
 * resolved exactly, under this function's search_path (pg_catalog, pg_temp):
 * schema-qualified, as the trigger and score_table give it (regclass's text
 * under that path); a temporary table is refused, and the count is keyed on
 * the table's schema-qualified name (0137: 0134 took any schema's table of the
 * name, a temporary one among them, and kept the name as given, so a role
 * that may not write public.customers made a temporary table customers and
 * counted failures that pgscore status printed as those of customers).
 */
CREATE FUNCTION pgscore.count_shadow_failure(p_model_id bigint, p_relation text, p_sqlstate text, p_profiles bigint,
                                             p_message text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row integer;
    v_role text := coalesce(nullif(current_setting('role'), 'none'), session_user);
    v_oid regclass;
    v_relation text;
BEGIN
    IF p_model_id IS NULL OR p_relation IS NULL OR p_sqlstate IS NULL OR p_profiles IS NULL OR p_message IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: model_id, relation, sqlstate, profiles and message must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_profiles < 0 THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: the profiles or rows of % that model_id % did not score must not be negative, got %',
                p_relation, p_model_id, p_profiles
            USING ERRCODE = 'invalid_parameter_value', HINT = 'a count of failures only grows: give how many it did not score';
    END IF;
    IF p_sqlstate !~ '^[0-9A-Z]{5}$' THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: % is not a SQLSTATE (the failure of model_id % in %)',
                quote_literal(p_sqlstate), p_model_id, p_relation
            USING ERRCODE = 'invalid_parameter_value', HINT = 'give the five characters of the error''s SQLSTATE, 38000 where the model raised';
    END IF;
    -- a table the caller writes as it scores, by its name as the trigger and score_table give it (regclass's text
    -- under this function's search_path: schema-qualified), resolved exactly; not a temporary table (0137: 0134
    -- took any schema's table of the name, a temporary one among them); counted under its schema-qualified name.
    -- A name that is no name of a relation (too many dots, another database's, an unclosed quote, empty) is one
    -- it does not write either (0145: to_regclass raised its parser's bare 42601, 0A000 or 42602)
    BEGIN
        v_oid := to_regclass(p_relation);
    EXCEPTION WHEN syntax_error OR feature_not_supported OR invalid_name THEN
        v_oid := NULL;
    END;
    SELECT format('%I.%I', n.nspname, c.relname) INTO v_relation
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = v_oid AND c.relkind IN ('r', 'p', 'f') AND c.relpersistence <> 't'
       AND has_any_column_privilege(v_role, c.oid, 'UPDATE');
    IF v_relation IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: role % does not write %: a shadow''s failures are counted in the table its caller scores, which it may UPDATE, named schema-qualified, not a temporary table (model_id %); nothing was counted',
                quote_ident(v_role), p_relation, p_model_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the rescoring trigger and score_table count them, as the role that writes the table, under its schema-qualified name';
    END IF;
    -- shadow_versions' rule for this one version (its newest mark a start, and no go-live of it since), read
    -- from the tables: the view's DISTINCT ON over every mark cost this path twice as much
    IF NOT EXISTS (SELECT 1 FROM (SELECT s.model_name, s.action, s.since_deployment FROM pgscore.shadows s
                                   WHERE s.model_id = p_model_id ORDER BY s.shadow_id DESC LIMIT 1) s
                    WHERE s.action = 'start'
                      AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                                       WHERE d.model_name = s.model_name AND d.model_id = p_model_id
                                         AND d.deployment_id > coalesce(s.since_deployment, 0) AND d.action <> 'retire')) THEN
        RETURN false;
    END IF;
    -- this backend's row, else its second, whose lock no transaction it PREPAREd holds (the lock and the row go to
    -- the prepared transaction until COMMIT PREPARED: waiting for it never ended); both held: nothing counted,
    -- where a prepared transaction holds a lock on the table. Any login may take an advisory lock: one granted
    -- nothing that held both of this backend's had its failures counted nothing. No prepared transaction holding
    -- a lock on the table, none holds a row of it (nor one counted into without the lock, here), and the count
    -- waits for none
    IF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), pg_backend_pid()) THEN
        v_row := pg_backend_pid();
    ELSIF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), -pg_backend_pid()) THEN
        v_row := -pg_backend_pid();
    ELSIF NOT EXISTS (SELECT 1 FROM pg_locks l
                       WHERE l.locktype = 'relation' AND l.relation = 'pgscore.shadow_failures'::regclass
                         AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                         AND l.pid IS NULL) THEN
        v_row := pg_backend_pid();
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO pgscore.shadow_failures AS f (model_id, relation, sqlstate, backend_pid, statements, profiles, first_at,
                                              last_at, last_message)
    VALUES (p_model_id, v_relation, p_sqlstate, v_row, 1, p_profiles, clock_timestamp(), clock_timestamp(),
            p_message)
    ON CONFLICT (model_id, relation, sqlstate, backend_pid) DO UPDATE
       SET statements = f.statements + 1, profiles = f.profiles + EXCLUDED.profiles, last_at = EXCLUDED.last_at,
           last_message = EXCLUDED.last_message;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION pgscore.count_shadow_failure(bigint, text, text, bigint, text) IS 'Internal: count a statement or chunk in which a version scored in shadow did not score in a table the caller may UPDATE, named schema-qualified, not temporary (42501 for another, and for a name that is no relation''s: 0134, 0137, 0145), under its schema-qualified name (this backend''s row of pgscore.shadow_failures, its second while a transaction it prepared holds the first); false, nothing counted, for a version that is no shadow now; NULL, nothing counted, where transactions it prepared hold both rows';

/*
 * A deployment that makes a version scored in shadow live ends its shadow
 * (pgscore.shadow_versions leaves out a version made live since its mark):
 * the stop is appended to pgscore.shadows as clear_shadow appends one, so
 * that the history says when the shadow ended and why. since_deployment names
 * the deployment that made it live, reason says which action ('made live by
 * activate'), changed_at and changed_by are the deployment's. Before
 * migration 0121 such an end was recorded nowhere in pgscore.shadows: a
 * 'start' followed by a deployment of the same version (deployment_id greater
 * than its since_deployment, not a retire) reads as its end. Runs as its
 * owner: pgscore.shadows is written by set_shadow and clear_shadow alone, as
 * theirs.
 */
CREATE FUNCTION pgscore.end_shadow_made_live() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    INSERT INTO pgscore.shadows (model_name, model_id, action, since_deployment, reason, changed_at, changed_by)
    SELECT s.model_name, s.model_id, 'stop', NEW.deployment_id, 'made live by ' || NEW.action, NEW.deployed_at,
           NEW.deployed_by
      FROM (SELECT s.model_name, s.model_id, s.action, s.since_deployment FROM pgscore.shadows s
             WHERE s.model_name = NEW.model_name AND s.model_id = NEW.model_id
             ORDER BY s.shadow_id DESC LIMIT 1) s
     WHERE s.action = 'start'
       -- (a shadow made live before, its end read off that deployment: a stop is recorded once)
       AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                        WHERE d.model_name = s.model_name AND d.model_id = s.model_id
                          AND d.deployment_id > coalesce(s.since_deployment, 0)
                          AND d.deployment_id < NEW.deployment_id AND d.action <> 'retire');
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.end_shadow_made_live() IS 'Trigger function: a deployment that makes a version scored in shadow live appends its ''stop'' to pgscore.shadows (since_deployment: that deployment)';
