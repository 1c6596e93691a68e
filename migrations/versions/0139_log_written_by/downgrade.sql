-- 0139 to 0138: pgscore.predictions without written_by, and the log without the column. A view cannot lose a
-- column in place: it is dropped and made again, with its owner, every grant (on the view's columns too, each
-- made again as its grantor made it, as 0128's are) and the comments of the view and of the columns that stay;
-- a view of the user's on it stops the downgrade, naming it, before anything is changed.

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
     WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid = 'pgscore.predictions'::pg_catalog.regclass
       AND d.deptype = 'n'
       AND r.ev_class IS DISTINCT FROM 'pgscore.predictions'::pg_catalog.regclass;
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'pgscore''s migration 0139''s downgrade makes pgscore.predictions again, and % of yours depend on it', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, migrate, then create them again. Nothing was changed.';
    END IF;
END
$do$;

CREATE TEMPORARY TABLE pgscore_0139_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.predictions'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attname <> 'written_by';

CREATE TEMPORARY TABLE pgscore_0139_description AS
SELECT pg_catalog.obj_description('pgscore.predictions'::pg_catalog.regclass, 'pg_class') AS view;

CREATE TEMPORARY TABLE pgscore_0139_column_grants AS
SELECT a.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, a.attnum * 1000000 + g.ord AS ord
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) WITH ORDINALITY g(grantor, grantee, privilege_type, is_grantable, ord)
 WHERE a.attrelid = 'pgscore.predictions'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attname <> 'written_by';

CREATE TEMPORARY TABLE pgscore_0139_view AS
SELECT c.relowner AS owner, a.grantor, a.grantee, a.privilege_type, a.is_grantable, a.ord
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, ord) ON true
 WHERE c.oid = 'pgscore.predictions'::pg_catalog.regclass;

DROP VIEW pgscore.predictions;

CREATE VIEW pgscore.predictions AS
SELECT l.logged_at, m.name AS model, m.version, l.model_id, l.entity_key, l.features, l.score, l.label,
       l.source, l.cause,
       -- (last: BI tools keep the columns' order; a query that does not name it does not compute it, and one that
       -- filters first decodes the rows it keeps alone)
       (SELECT jsonb_object_agg(f.name, CASE WHEN f.value IS NULL OR f.value = 'NaN' THEN NULL
                                             WHEN NOT coalesce(m.text_categories ? f.name, false)
                                             THEN to_jsonb(f.value)
                                             -- a word's code: a whole number within the words' list; any other
                                             -- (-1, the code of an unknown word, as an index the list's LAST word;
                                             -- past the list, a fraction 1.5 that ::integer rounds to 2, an
                                             -- infinity) the model scored as an unknown word
                                             WHEN f.value >= 0 AND f.value = trunc(f.value)
                                                  AND f.value < jsonb_array_length(m.text_categories -> f.name)
                                             THEN m.text_categories -> f.name -> f.value::integer
                                             ELSE to_jsonb('(unknown word)'::text) END)
          FROM unnest(m.feature_names, l.features) f(name, value) WHERE f.name IS NOT NULL) AS features_by_name
  FROM pgscore.prediction_log l
  JOIN pgscore.models m ON m.model_id = l.model_id;

DO $do$
DECLARE
    r record;
BEGIN
    -- the comments its columns had (a DBA's too), and the view's own
    FOR r IN SELECT c.attname, c.description FROM pgscore_0139_comments c WHERE c.description IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.predictions.%I IS %L', r.attname, r.description);
    END LOOP;
    EXECUTE pg_catalog.format('COMMENT ON VIEW pgscore.predictions IS %L', (SELECT d.view FROM pgscore_0139_description d));
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.predictions OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0139_view v LIMIT 1));
END
$do$;
DROP TABLE pgscore_0139_comments;
DROP TABLE pgscore_0139_description;

-- the grants it had (on the view, and on the columns it still has), each made again as its grantor made it (as
-- 0091's): as the owner, each would name the owner as its grantor, and revoking the grantee's CASCADE would leave
-- a third role its access; a grantee's grants after the one that gave it the option
DO $do$
DECLARE
    r record;
    v_role text;
    v_grant text;
    v_more boolean;
    v_stuck boolean := false;
    v_made integer;
BEGIN
    CREATE TEMPORARY TABLE pgscore_0139_regrants AS
    SELECT 0 AS kind, NULL::pg_catalog.name AS attname, v.grantor, v.grantee, v.privilege_type, v.is_grantable, v.owner,
           v.ord::bigint AS ord
      FROM pgscore_0139_view v WHERE v.privilege_type IS NOT NULL AND v.grantee IS DISTINCT FROM v.owner
    UNION ALL
    SELECT 1, g.attname, g.grantor, g.grantee, g.privilege_type, g.is_grantable, (SELECT v.owner FROM pgscore_0139_view v LIMIT 1),
           g.ord
      FROM pgscore_0139_column_grants g;
    CREATE TEMPORARY TABLE pgscore_0139_regranted AS SELECT g.kind, g.attname, g.grantor, g.grantee, g.privilege_type
      FROM pgscore_0139_regrants g WHERE false;
    v_role := pg_catalog.current_setting('role');
    LOOP
        v_more := false;
        v_made := 0;
        FOR r IN SELECT g.* FROM pgscore_0139_regrants g ORDER BY g.kind, g.grantor = g.owner DESC, g.ord LOOP
            CONTINUE WHEN EXISTS (SELECT FROM pgscore_0139_regranted d
                                   WHERE (d.kind, d.attname, d.grantor, d.grantee, d.privilege_type)
                                         IS NOT DISTINCT FROM (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type));
            -- the grantor holds the grant option again (or is the owner), or no grant made here will give it
            IF NOT (r.grantor = r.owner OR v_stuck OR EXISTS (
                    SELECT FROM pg_catalog.aclexplode((SELECT c.relacl FROM pg_catalog.pg_class c
                                                        WHERE c.oid = 'pgscore.predictions'::pg_catalog.regclass)) x
                     WHERE x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable)
                 OR (r.kind = 1 AND EXISTS (
                    SELECT FROM pg_catalog.pg_attribute a CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
                     WHERE a.attrelid = 'pgscore.predictions'::pg_catalog.regclass AND a.attname = r.attname
                       AND x.grantee = r.grantor AND x.privilege_type = r.privilege_type AND x.is_grantable))) THEN
                v_more := true;
                CONTINUE;
            END IF;
            v_grant := pg_catalog.format('GRANT %s%s ON pgscore.predictions TO %s%s', r.privilege_type,
                                         CASE WHEN r.kind = 1 THEN pg_catalog.format(' (%I)', r.attname) ELSE '' END,
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
                RAISE WARNING 'pgscore''s migration 0139 made % as the owner, not as its grantor: %', v_grant, SQLERRM;
                EXECUTE v_grant;
            END;
            INSERT INTO pgscore_0139_regranted VALUES (r.kind, r.attname, r.grantor, r.grantee, r.privilege_type);
            v_made := v_made + 1;
        END LOOP;
        EXIT WHEN NOT v_more;
        -- a pass that made nothing: the rest as the owner would (a grantor whose option came from nowhere here)
        v_stuck := v_made = 0;
    END LOOP;
END
$do$;
DROP TABLE pgscore_0139_column_grants;
DROP TABLE pgscore_0139_view;
DROP TABLE pgscore_0139_regrants;
DROP TABLE pgscore_0139_regranted;

ALTER TABLE pgscore.prediction_log DROP COLUMN written_by;
