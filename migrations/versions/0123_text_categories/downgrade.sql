-- 0123 text_categories, undone: refused while a live or shadow version has text categories (before 0123 nothing
-- codes its words: every call by name with a word, and every text column, would fail); else category_code goes,
-- the view as 0054 left it (its grants and its columns' comments kept), and the column where no version has words:
-- the registry's rows are immutable, and another version's (an older one, a retired model's, which can be made
-- live again) would be lost for good, so the column stays where one has them, for the upgrade again to find
DO $do$
DECLARE
    v_versions text;
BEGIN
    SELECT string_agg(format('%s version %s', v.name, v.version), ', ' ORDER BY v.name, v.version) INTO v_versions
      FROM pgscore.model_versions v
     WHERE v.text_categories IS NOT NULL AND (v.live OR v.shadow);
    IF v_versions IS NOT NULL THEN
        RAISE EXCEPTION 'cannot downgrade below 0123: % take(s) text categories, which pgscore before it cannot code', v_versions
            USING ERRCODE = 'object_in_use',
                  HINT = 'make another version live (pgscore activate), stop the shadows (pgscore unshadow) or retire the model, then downgrade';
    END IF;
END
$do$;
DROP FUNCTION pgscore.category_code(text, text, text);

CREATE TEMPORARY TABLE pgscore_0123_view_state ON COMMIT DROP AS
SELECT a.attname::text AS col, d.description
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                  AND d.objsubid = a.attnum
 WHERE a.attrelid = 'pgscore.model_versions'::pg_catalog.regclass AND a.attnum > 0 AND a.attname <> 'text_categories';
CREATE TEMPORARY TABLE pgscore_0123_view_acl ON COMMIT DROP AS
SELECT x.grantee, x.privilege_type
  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x
 WHERE c.oid = 'pgscore.model_versions'::pg_catalog.regclass AND x.grantee <> c.relowner;
DROP VIEW pgscore.model_versions;
CREATE VIEW pgscore.model_versions AS
SELECT m.model_id, m.name, m.version, m.task, m.estimator, m.feature_names, m.feature_types,
       m.classes, m.env, m.metrics, m.n_train, m.description, m.created_at, m.created_by,
       a.sha256, a.hmac_sha256 IS NOT NULL AS signed,
       coalesce(l.model_id = m.model_id AND l.action <> 'retire', false) AS live,
       CASE WHEN e.bytes IS NOT NULL THEN 'numpy' ELSE 'scikit-learn' END AS engine,
       CASE WHEN e.bytes IS NOT NULL
            THEN format('compiled, equal to scikit-learn on %s rows (max difference %s)', e.checked_rows, e.max_abs_diff)
            ELSE coalesce(e.reason, 'deployed before evaluators existed') END AS engine_note,
       EXISTS (SELECT 1 FROM pgscore.shadow_versions s WHERE s.name = m.name AND s.model_id = m.model_id) AS shadow
  FROM pgscore.models m
  JOIN pgscore.artifacts a ON a.model_id = m.model_id
  LEFT JOIN pgscore.evaluators e ON e.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT d.model_id, d.action FROM pgscore.deployments d
         WHERE d.model_name = m.name ORDER BY d.deployment_id DESC LIMIT 1) l ON true;
COMMENT ON VIEW pgscore.model_versions IS 'Every model version, its metadata, sha256, whether it is signed and whether it is live';
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT col, description FROM pgscore_0123_view_state LOOP
        EXECUTE format('COMMENT ON COLUMN pgscore.model_versions.%I IS %L', r.col, r.description);
    END LOOP;
    FOR r IN SELECT grantee, privilege_type FROM pgscore_0123_view_acl LOOP
        EXECUTE format('GRANT %s ON pgscore.model_versions TO %s', r.privilege_type,
                       CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(r.grantee)) END);
    END LOOP;
END
$do$;
DROP TABLE pgscore_0123_view_state, pgscore_0123_view_acl;

DO $do$
DECLARE
    v_versions text;
BEGIN
    SELECT string_agg(format('%s version %s', m.name, m.version), ', ' ORDER BY m.name, m.version) INTO v_versions
      FROM pgscore.models m
     WHERE m.text_categories IS NOT NULL;
    IF v_versions IS NULL THEN
        ALTER TABLE pgscore.models DROP COLUMN text_categories;
    ELSE
        RAISE NOTICE 'pgscore.models.text_categories kept: % take(s) text categories (the registry''s rows are immutable); pgscore before 0123 cannot score them by word, and an upgrade again serves them as before', v_versions;
    END IF;
END
$do$;
