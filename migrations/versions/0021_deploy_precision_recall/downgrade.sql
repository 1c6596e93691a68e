-- 0021 to 0020: realised_performance without deploy_precision and deploy_recall. A view cannot lose
-- columns in place: it is dropped and made again as 0017 left it, with the comments its columns had, its
-- owner and every grant on it and on its columns (pgscore's roles', and any a DBA added). A view of the
-- user's built on it stops the downgrade, with its name and what to do (PostgreSQL's own error would
-- suggest DROP ... CASCADE, which drops the user's views and, run on pgscore's, breaks the install).

DO $do$
DECLARE
    v_users text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%I.%I', n.nspname, c.relname), ', ') INTO v_users
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
      JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid = 'pgscore.realised_performance'::pg_catalog.regclass
       AND r.ev_class <> d.refobjid;
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'downgrading pgscore below revision 0021 makes pgscore.realised_performance again, and % of yours depend on it', v_users
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'pgscore drops nothing of yours: keep their definitions (SELECT pg_get_viewdef(''name'', true)), drop them, downgrade, then create them again. Nothing was changed.';
    END IF;
END
$do$;

CREATE TEMPORARY TABLE pgscore_0021_comments AS
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS description
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'pgscore.realised_performance'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attname NOT IN ('deploy_precision', 'deploy_recall');

CREATE TEMPORARY TABLE pgscore_0021_column_grants AS
SELECT a.attname, g.grantee, g.privilege_type, g.is_grantable
  FROM pg_catalog.pg_attribute a
 CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) g
 WHERE a.attrelid = 'pgscore.realised_performance'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attname NOT IN ('deploy_precision', 'deploy_recall');

CREATE TEMPORARY TABLE pgscore_0021_view AS
SELECT c.relowner AS owner, a.grantee, a.privilege_type, a.is_grantable
  FROM pg_catalog.pg_class c
  LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON true
 WHERE c.oid = 'pgscore.realised_performance'::pg_catalog.regclass;

DROP VIEW pgscore.realised_performance;

CREATE VIEW pgscore.realised_performance AS
SELECT name AS model, version, task, period AS window_name, n, positives, auc, accuracy, precision, recall, brier,
       log_loss, mae, rmse, deploy_auc, deploy_accuracy, deploy_brier, deploy_log_loss, deploy_mae, deploy_rmse,
       status, firing,
       CASE WHEN n = 0 THEN 'no outcomes matched to predictions of this version in this window'
            WHEN status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', n, min_n)
            WHEN status = 'not_applicable' AND coalesce(deploy_auc, deploy_accuracy, deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN status = 'not_applicable' AND task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
       END AS note,
       unmatched_outcomes
  FROM pgscore.performance_stats()
 WHERE period_kind = 'window'
 ORDER BY model, sort_order;
COMMENT ON VIEW pgscore.realised_performance IS 'Per live model and window (by prediction time): metrics realised on the outcomes recorded so far, next to the hold-out metrics captured at deploy';

DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.attname, c.description FROM pgscore_0021_comments c WHERE c.description IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN pgscore.realised_performance.%I IS %L', r.attname, r.description);
    END LOOP;
END
$do$;
DROP TABLE pgscore_0021_comments;

DO $do$
DECLARE
    r record;
BEGIN
    -- regrole's text is the role's name quoted as an identifier where it needs to be
    EXECUTE pg_catalog.format('ALTER VIEW pgscore.realised_performance OWNER TO %s',
                              (SELECT v.owner::pg_catalog.regrole FROM pgscore_0021_view v LIMIT 1));
    FOR r IN SELECT v.grantee, v.privilege_type, v.is_grantable FROM pgscore_0021_view v
              WHERE v.privilege_type IS NOT NULL
                AND v.grantee IS DISTINCT FROM (SELECT c.relowner FROM pg_catalog.pg_class c
                                                 WHERE c.oid = 'pgscore.realised_performance'::pg_catalog.regclass)
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON pgscore.realised_performance TO %s%s', r.privilege_type,
                                  CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                  CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    FOR r IN SELECT g.attname, g.grantee, g.privilege_type, g.is_grantable FROM pgscore_0021_column_grants g LOOP
        EXECUTE pg_catalog.format('GRANT %s (%I) ON pgscore.realised_performance TO %s%s', r.privilege_type, r.attname,
                                  CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
                                  CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$do$;
DROP TABLE pgscore_0021_view;
DROP TABLE pgscore_0021_column_grants;
