-- 0175 to 0176 (session 69, h1, trial T26): pgscore.check_live_version_fed, the deployments' trigger, reads the
-- wirings of the model made live alone before it resolves their tables' names (to_regclass): with two teams' schemas
-- wired in one database, the other team's wiring's tables were resolved too, and every deploy, activate and rollback
-- of a role without USAGE on the other schema failed with `permission denied for schema growth`; and so
-- pgscore.score_columns_read, which it calls

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
    v_wired text[] := '{}';
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
          FROM (SELECT x.* FROM pgscore.rescoring x WHERE x.model_name = NEW.model_name OFFSET 0) w
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
        -- each one, in the DETAIL (migration 0131; before, "2 wiring(s) affected" named the first alone)
        v_wired := v_wired || format('%s (from %s) lacks %s', r.profile_table, r.event_table, r.missing);
    END LOOP;
    IF v_n > 0 THEN
        -- a version stored in this transaction (deploy) is rolled back with it: deploy it again, not activate it
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        -- a version this deploy stores is rolled back with it, and its number with it: the next deploy takes the
        -- number (migration 0131; before, "version 3 could not rescore it", and the next deploy was version 3)
        RAISE EXCEPTION '%, which % rescores with %, has no column %: once live, % could not rescore it',
                v_first.profile_table, v_first.event_table, NEW.model_name, v_first.missing,
                CASE WHEN v_new THEN format('the version this deploy would have stored (version %s; nothing was stored)',
                                            v_version)
                     ELSE format('version %s', v_version) END
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('%s wiring(s) affected: %s', v_n, array_to_string(v_wired, '; ')),
                  HINT = CASE
                      WHEN NEW.action = 'rollback' THEN format('add the column(s) to the profile table first, then roll back again (version %s)', v_version)
                      WHEN v_new THEN 'add the column(s) to the profile table first, then deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
                      ELSE format('add the column(s) to the profile table first, then activate version %s again', v_version)
                  END;
    END IF;
    -- a counter feeding a feature of the version through a profile column of words (a string type or an ENUM):
    -- attach_rescoring refuses, of the version live then, a count, add, window, max or min counter into a text
    -- feature's column (a model fitted on words: they count or sum numbers, or order words by their spelling,
    -- 22023); a version made live after the table was wired, or the first of a name wired before any was stored,
    -- was not checked (migration 0132). Nor is a version that reads as a number a feature another version of the
    -- name took as words, where a last, set or recompute counter keeps words in its column (42804): every event's
    -- profile would be queued, its word no number. Each one in the DETAIL, the first in the message
    v_n := 0;
    v_wired := '{}';
    FOR r IN
        SELECT c.profile_table, c.event_table, c.col, c.rule, c.kind, c.words
          FROM (SELECT w.profile_table, w.event_table, e.key AS col, e.value::text AS rule,
                       CASE WHEN e.value = '"count"'::jsonb THEN 'count'
                            WHEN jsonb_typeof(e.value) = 'object'
                            THEN (SELECT k FROM jsonb_object_keys(e.value) AS k
                                   WHERE k IN ('add', 'max', 'min', 'window', 'last', 'set', 'recompute') LIMIT 1)
                       END AS kind,
                       coalesce(m.text_categories ? e.key, false) AS words,
                       EXISTS (SELECT 1 FROM pgscore.models o
                                WHERE o.name = NEW.model_name AND o.model_id <> NEW.model_id
                                  AND coalesce(o.text_categories ? e.key, false)) AS words_before
                  FROM (SELECT x.* FROM pgscore.rescoring x WHERE x.model_name = NEW.model_name OFFSET 0) w
                  JOIN pgscore.models m ON m.model_id = NEW.model_id
                 CROSS JOIN LATERAL jsonb_each(coalesce(w.counters, '{}'::jsonb)) AS e
                 WHERE w.model_name = NEW.model_name AND to_regclass(w.profile_table) IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgname = w.trigger_name AND NOT t.tgisinternal)
                   AND e.key = ANY (m.feature_names)
                   AND EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
                                WHERE a.attrelid = to_regclass(w.profile_table) AND a.attname = e.key
                                  AND a.attnum > 0 AND NOT a.attisdropped AND y.typcategory IN ('S', 'E'))) AS c
         WHERE (c.words AND c.kind IN ('count', 'add', 'window', 'max', 'min'))
            OR (NOT c.words AND c.words_before AND c.kind IN ('last', 'set', 'recompute'))
         ORDER BY c.words DESC, 1, 2, 3
    LOOP
        v_n := v_n + 1;
        IF v_n = 1 THEN
            v_first := r;
        END IF;
        v_wired := v_wired || format('%s (from %s): counter %s, %s, %s', r.profile_table, r.event_table,
                                     quote_ident(r.col), r.rule,
                                     CASE WHEN r.words THEN 'into a text feature' ELSE 'of words into a number' END);
    END LOOP;
    IF v_n > 0 THEN
        SELECT m.version, m.created_at = pg_catalog.now() INTO v_version, v_new
          FROM pgscore.models m WHERE m.model_id = NEW.model_id;
        v_s := CASE WHEN v_new THEN format('the version this deploy would have stored (version %s; nothing was stored)',
                                          v_version)
                    ELSE format('version %s', v_version) END;
        v_again := format('wire %s anew with a counter the version can read (pgscore.detach_rescoring(%L), then '
                          'pgscore.attach_rescoring(...) again: a last, set or recompute counter of words for a text '
                          'feature, a number for a number), or retrain the version on the feature as the wiring feeds '
                          'it; then ', v_first.profile_table, v_first.event_table);
        v_again := v_again || CASE
            WHEN NEW.action = 'rollback' THEN format('roll back again (version %s)', v_version)
            WHEN v_new THEN 'deploy again; or store the version without making it live (pgscore deploy --no-activate; in an alembic revision deploy_model(..., activate=False); pgscore.register_model(..., p_activate => false))'
            ELSE format('activate version %s again', v_version) END;
        v_detail := format('%s counter(s) affected: %s', v_n, array_to_string(v_wired, '; '));
        IF v_first.words THEN
            RAISE EXCEPTION '%, which % rescores with %, feeds the text feature % of % with a % counter (%, %), which %: the model was fitted on words; once live, every INSERT into % would score the profiles on what that counter leaves',
                    v_first.profile_table, v_first.event_table, quote_literal(NEW.model_name),
                    quote_literal(v_first.col), v_s, v_first.kind, quote_ident(v_first.col), v_first.rule,
                    CASE v_first.kind WHEN 'max' THEN 'keeps the word that sorts last by its spelling, no order of the model''s'
                                      WHEN 'min' THEN 'keeps the word that sorts first by its spelling, no order of the model''s'
                                      WHEN 'add' THEN 'adds up numbers, no word'
                                      ELSE 'counts events, no word' END,
                    v_first.event_table
                USING ERRCODE = 'invalid_parameter_value', DETAIL = v_detail, HINT = v_again;
        END IF;
        RAISE EXCEPTION '%, which % rescores with %, feeds the feature % a word (counter %, %), and % reads it as a number: once live, every INSERT into % would queue its profiles, their word no number',
                v_first.profile_table, v_first.event_table, quote_literal(NEW.model_name), quote_literal(v_first.col),
                quote_ident(v_first.col), v_first.rule, v_s, v_first.event_table
            USING ERRCODE = 'datatype_mismatch', DETAIL = v_detail, HINT = v_again;
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
              FROM (SELECT x.* FROM pgscore.rescoring x WHERE x.model_name = NEW.model_name OFFSET 0) w
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

CREATE OR REPLACE FUNCTION pgscore.score_columns_read(p_model_id bigint, p_rescoring_id bigint DEFAULT NULL)
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
