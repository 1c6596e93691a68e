-- 0097 to 0096: pgscore.version_drift and pgscore.drift_by_day without their checks column, as 0094 left them.
-- Neither can lose a column in place: both are dropped and made again, with their owners, every grant (on the
-- view's columns too, each made again as its grantor made it, as 0091's are) and the comments of the view's
-- columns that stay, of the view and of version_drift (a DBA's own stays where it replaced the stock one, status's
-- too); a view of the user's on either stops the downgrade, naming it, before anything is changed.

DO $do$
DECLARE
    v_users text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT CASE WHEN c.oid IS NOT NULL THEN pg_catalog.format('%I.%I', n.nspname, c.relname)
                                               ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END, ', ')
      INTO v_users
      FROM pg_catalog.pg_depend d
      LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
      LEFT JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             AND d.refobjid = 'pgscore.drift_by_day'::pg_catalog.regclass) OR (d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                AND d.refobjid = 'pgscore.version_drift(text, integer)'::pg_catalog.regprocedure))
       AND d.deptype = 'n'
       AND r.ev_class IS DISTINCT FROM 'pgscore.drift_by_day'::pg_catalog.regclass;
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore''s migration 0097''s downgrade makes pgscore.drift_by_day and pgscore.version_drift again, and % of yours depend on it', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, migrate, then create them again. Nothing was changed.';
    END IF;
END
$do$;

CREATE TEMPORARY TABLE pgscore_0097_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.drift_by_day'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

-- the view's and version_drift's own comments: a DBA's stays (the stock ones are made again below)
CREATE TEMPORARY TABLE pgscore_0097_descriptions AS
SELECT pg_catalog.obj_description('pgscore.drift_by_day'::pg_catalog.regclass, 'pg_class') AS view,
       pg_catalog.obj_description('pgscore.version_drift(text, integer)'::pg_catalog.regprocedure, 'pg_proc') AS function;

CREATE TEMPORARY TABLE pgscore_0097_column_grants AS
SELECT a.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, a.attnum * 1000000 + g.ord AS ord
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) WITH ORDINALITY g(grantor, grantee, privilege_type, is_grantable, ord)
 WHERE a.attrelid = 'pgscore.drift_by_day'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped;

CREATE TEMPORARY TABLE pgscore_0097_view AS
SELECT c.relowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable, a.ord
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, ord) ON true
 WHERE c.oid = 'pgscore.drift_by_day'::pg_catalog.regclass;

CREATE TEMPORARY TABLE pgscore_0097_function AS
SELECT p.proowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable, a.ord
  FROM pg_catalog.pg_proc p
  LEFT JOIN LATERAL pg_catalog.aclexplode(p.proacl) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, ord) ON true
 WHERE p.oid = 'pgscore.version_drift(text, integer)'::pg_catalog.regprocedure;

DROP VIEW pgscore.drift_by_day;
DROP FUNCTION pgscore.version_drift(text, integer);

CREATE VIEW pgscore.drift_by_day AS
SELECT r.model, r.version, r.kind, r.feature, r.day, r.n, r.psi, r.ks, r.js, r.mean, r.baseline_mean, r.mean_shift,
       r.null_rate, r.out_of_range, r.status
  FROM (SELECT d.*, d.period::date AS day,
               min(d.period::date) FILTER (WHERE d.n > 0) OVER (PARTITION BY d.model, d.version) AS first_day
          FROM pgscore.drift_report d
         WHERE d.period_kind = 'day') r
  JOIN pgscore.models m ON m.name = r.model AND m.version = r.version
 WHERE r.day >= least((m.created_at AT TIME ZONE 'UTC')::date, r.first_day)
 ORDER BY r.model, r.kind, r.position, r.day;
COMMENT ON VIEW pgscore.drift_by_day IS 'Per live model, feature (and score) and UTC day of the last 30 from the version''s deploy on: the drift metrics of that day alone';
COMMENT ON COLUMN pgscore.drift_by_day.n IS 'How many values (logged predictions) the day holds';
COMMENT ON COLUMN pgscore.drift_by_day.mean IS 'Mean of the day''s non-NULL values';
COMMENT ON COLUMN pgscore.drift_by_day.null_rate IS 'Share of NULL/NaN values among the day''s';
COMMENT ON COLUMN pgscore.drift_by_day.out_of_range IS 'Share of the day''s non-NULL values outside the baseline min..max (null_rate counts the NULL ones)';
COMMENT ON COLUMN pgscore.drift_by_day.status IS 'The worst level among the day''s metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';

DO $do$
DECLARE
    r record;
BEGIN
    -- the comments its columns had (a DBA's too), on the columns it still has: status's where a DBA's own (not
    -- 0097's stock text) is there
    FOR r IN SELECT c.attname, c.description FROM pgscore_0097_comments c
               JOIN pg_catalog.pg_attribute a ON a.attname = c.attname
                AND a.attrelid = 'pgscore.drift_by_day'::pg_catalog.regclass AND a.attnum > 0
              WHERE c.description IS NOT NULL
                AND (c.attname <> 'status' OR c.description <> 'The worst level among the day''s metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable; judged as feature_drift''s windows are, by pgscore.drift_thresholds and (where a confidence is set) the noise floors at the day''s n (checks holds each)') LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.drift_by_day.%I IS %L', r.attname, r.description);
    END LOOP;
    -- the view's own comment as it was (the stock one, made above, or a DBA's)
    EXECUTE pg_catalog.format('COMMENT ON VIEW pgscore.drift_by_day IS %L', (SELECT d.view FROM pgscore_0097_descriptions d));
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.drift_by_day OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0097_view v LIMIT 1));
    -- (its grants with version_drift's, below, once both are made)
END
$do$;
DROP TABLE pgscore_0097_comments;

CREATE FUNCTION pgscore.version_drift(p_model text, p_version integer)
RETURNS TABLE (model text, version integer, live boolean, kind text, feature text, window_name text, n bigint,
               psi float8, ks float8, js float8, mean float8, baseline_mean float8, mean_shift float8,
               null_rate float8, baseline_null_rate float8, out_of_range float8, status text, firing text,
               note text)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
#variable_conflict use_column
DECLARE
    v_id   bigint;
    v_live boolean;
BEGIN
    IF p_model IS NULL OR p_version IS NULL THEN
        RAISE EXCEPTION 'pgscore.version_drift: % must not be NULL', CASE WHEN p_model IS NULL THEN 'the model' ELSE 'the version' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'give the model''s name and the version to read: SELECT name, version FROM pgscore.model_versions lists them';
    END IF;
    SELECT m.model_id INTO v_id FROM pgscore.models m WHERE m.name = p_model AND m.version = p_version;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_model) THEN
            RAISE EXCEPTION 'pgscore.version_drift: model "%" does not exist', p_model
                USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM pgscore.model_versions lists the models';
        END IF;
        RAISE EXCEPTION 'pgscore.version_drift: model "%" has no version %', p_model, p_version
            USING ERRCODE = 'undefined_object',
                  DETAIL = format('versions: %s', (SELECT string_agg(m.version::text, ', ' ORDER BY m.version)
                                                     FROM pgscore.models m WHERE m.name = p_model)),
                  HINT = 'SELECT version, live FROM pgscore.model_versions WHERE name = ... lists its versions';
    END IF;
    v_live := EXISTS (SELECT 1 FROM pgscore.live_models l WHERE l.model_id = v_id);
    RETURN QUERY
    SELECT r.name, r.version, v_live, r.kind, r.feature, r.period, r.n, r.psi, r.ks, r.js, r.mean, r.baseline_mean,
           r.mean_shift, r.null_rate, r.baseline_null_rate, r.out_of_range, r.status, r.firing, r.note
      FROM (SELECT s.name, s.version, s.kind, s.feature, s.position, s.period, s.sort_order, s.n, s.psi, s.ks, s.js,
                   s.mean, s.baseline_mean, s.mean_shift, s.null_rate, s.baseline_null_rate, s.out_of_range,
                   s.status, s.firing,
                   -- as drift_report notes them
                   CASE WHEN s.empty_baseline THEN 'the baseline holds no values (all NULL at training)'
                        WHEN s.n = 0 THEN 'no predictions of this version in this window'
                        WHEN s.status = 'insufficient_data' THEN format('%s values, fewer than the %s needed', s.n, s.min_n)
                        WHEN s.constant_baseline THEN 'constant in the baseline: mean shift undefined, any other value is out of range'
                   END AS note
              FROM pgscore.drift_stats_of(ARRAY[v_id], 'window') s
            UNION ALL
            SELECT m.name, m.version, k.kind, NULL, NULL, w.window_name, w.sort_order, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL,
                   'deployed without training data, so there is no baseline: redeploy with --train (or X) to monitor drift'
              FROM pgscore.models m
             CROSS JOIN (VALUES ('feature'), ('score')) k(kind)
             CROSS JOIN pgscore.drift_windows w
             WHERE m.model_id = v_id
               AND NOT EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = m.model_id AND b.kind = k.kind)) r
     ORDER BY r.kind = 'score', r.position, r.sort_order;
END
$fn$;
COMMENT ON FUNCTION pgscore.version_drift(text, integer) IS 'feature_drift and score_drift for one version of a model, live or not: the predictions it logged in each window against its own baseline captured at its deploy; a version not live has no row in the drift views';
-- a DBA's own comment (not 0097's stock text) in its place
DO $do$
DECLARE
    v_comment text := (SELECT d.function FROM pgscore_0097_descriptions d);
BEGIN
    IF v_comment IS DISTINCT FROM 'feature_drift and score_drift for one version of a model, live or not: the predictions it logged in each window against its own baseline captured at its deploy; a version not live has no row in the drift views; last (since 0097), checks: each metric checked with its thresholds, level, confidence, noise floor and family, as window_checks gives the live version''s (pgscore.check_rows reads it)' THEN
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION pgscore.version_drift(text, integer) IS %L', v_comment);
    END IF;
END
$do$;
DROP TABLE pgscore_0097_descriptions;

-- the owner and the grants they had (the view's on the columns it still has), each made again as its grantor
-- made it (as 0091's)
DO $do$
DECLARE
    r record;
    v_role text;
    v_grant text;
    v_more boolean;
    v_stuck boolean := false;
    v_made integer;
BEGIN
    -- regrole's text is the role's name quoted as an identifier where it needs to be
    EXECUTE pg_catalog.format('ALTER FUNCTION pgscore.version_drift(text, integer) OWNER TO %s',
                              (SELECT f.owner::pg_catalog.regrole FROM pgscore_0097_function f LIMIT 1));
    -- every grant made again as its grantor made it (a DBA's grant WITH GRANT OPTION, and what its grantee granted
    -- on: as the owner, each would name the owner as its grantor, and revoking the grantee's CASCADE would leave
    -- the third role its access), a grantee's grants after the one that gave it the option
    CREATE TEMPORARY TABLE pgscore_0097_regrants AS
    SELECT 0 AS kind, NULL::pg_catalog.name AS attname, v.grantor, v.grantee, v.privilege_type, v.is_grantable, v.owner,
           v.ord::bigint AS ord
      FROM pgscore_0097_view v WHERE v.privilege_type IS NOT NULL AND v.grantee IS DISTINCT FROM v.owner
    UNION ALL
    SELECT 1, g.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, (SELECT v.owner FROM pgscore_0097_view v LIMIT 1),
           g.ord
      FROM pgscore_0097_column_grants g
      JOIN pg_catalog.pg_attribute a ON a.attname = g.attname
       AND a.attrelid = 'pgscore.drift_by_day'::pg_catalog.regclass AND a.attnum > 0
    UNION ALL
    SELECT 2, NULL, f.grantor, f.grantee, f.privilege_type, f.is_grantable, f.owner, f.ord
      FROM pgscore_0097_function f WHERE f.privilege_type IS NOT NULL AND f.grantee IS DISTINCT FROM f.owner;
    CREATE TEMPORARY TABLE pgscore_0097_regranted AS SELECT g.kind, g.attname, g.grantor, g.grantee, g.privilege_type
      FROM pgscore_0097_regrants g WHERE false;
    -- the function's: none to PUBLIC but where it had one (a function is PUBLIC's to execute when made)
    REVOKE EXECUTE ON FUNCTION pgscore.version_drift(text, integer) FROM PUBLIC;
    v_role := pg_catalog.current_setting('role');
    LOOP
        v_more := false;
        v_made := 0;
        FOR r IN SELECT g.* FROM pgscore_0097_regrants g ORDER BY g.kind, g.grantor = g.owner DESC, g.ord LOOP
            CONTINUE WHEN EXISTS (SELECT FROM pgscore_0097_regranted d
                                   WHERE (d.kind, d.attname, d.grantor, d.grantee, d.privilege_type)
                                         IS NOT DISTINCT FROM (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type));
            -- the grantor holds the grant option again (or is the owner), or no grant made here will give it
            IF NOT (r.grantor = r.owner OR v_stuck OR EXISTS (
                    SELECT FROM pg_catalog.aclexplode(CASE WHEN r.kind = 2 THEN (SELECT p.proacl FROM pg_catalog.pg_proc p
                                                     WHERE p.oid = 'pgscore.version_drift(text, integer)'::pg_catalog.regprocedure)
                                                      ELSE (SELECT c.relacl FROM pg_catalog.pg_class c
                                                     WHERE c.oid = 'pgscore.drift_by_day'::pg_catalog.regclass) END) x
                     WHERE x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable)
                 OR (r.kind = 1 AND EXISTS (
                    SELECT FROM pg_catalog.pg_attribute a CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
                     WHERE a.attrelid = 'pgscore.drift_by_day'::pg_catalog.regclass AND a.attname = r.attname
                       AND x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable))) THEN
                v_more := true;
                CONTINUE;
            END IF;
            v_grant := pg_catalog.format('GRANT %s%s ON %s TO %s%s', r.privilege_type,
                                         CASE WHEN r.kind = 1 THEN pg_catalog.format(' (%I)', r.attname) ELSE '' END,
                                         CASE WHEN r.kind = 2 THEN 'FUNCTION pgscore.version_drift(text, integer)' ELSE 'pgscore.drift_by_day' END,
                                         CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                         CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
            BEGIN
                IF r.grantor <> r.owner AND NOT v_stuck THEN
                    PERFORM pg_catalog.set_config('role', pg_catalog.pg_get_userbyid(r.grantor), false);
                END IF;
                EXECUTE v_grant;
                PERFORM pg_catalog.set_config('role', v_role, false);
            EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation OR invalid_parameter_value THEN
                -- this role may not act as the grantor (or the grantor no longer may grant): made as the owner
                RAISE WARNING 'pgscore''s migration 0097 made % as the owner, not as its grantor: %', v_grant, SQLERRM;
                EXECUTE v_grant;
            END;
            INSERT INTO pgscore_0097_regranted VALUES (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type);
            v_made := v_made + 1;
        END LOOP;
        EXIT WHEN NOT v_more;
        -- a pass that made nothing: the rest as the owner would (a grantor whose option came from nowhere here)
        v_stuck := v_made = 0;
    END LOOP;
END
$do$;
DROP TABLE pgscore_0097_column_grants;
DROP TABLE pgscore_0097_view;
DROP TABLE pgscore_0097_function;
DROP TABLE pgscore_0097_regrants;
DROP TABLE pgscore_0097_regranted;
