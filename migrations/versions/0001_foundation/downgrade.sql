-- Remove what pgscore created and nothing else: refuse while objects outside
-- the schema depend on it, and drop plpython3u only if the install created it.
DO $do$
DECLARE
    v_created boolean;
    v_dependents text;
BEGIN
    WITH ours AS (
        SELECT 'pg_catalog.pg_class'::regclass AS classid, c.oid AS objid
          FROM pg_catalog.pg_class c WHERE c.relnamespace = 'pgscore'::regnamespace
        UNION ALL
        SELECT 'pg_catalog.pg_proc'::regclass, p.oid
          FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pgscore'::regnamespace
        UNION ALL
        SELECT 'pg_catalog.pg_type'::regclass, t.oid
          FROM pg_catalog.pg_type t WHERE t.typnamespace = 'pgscore'::regnamespace
    ), dependents AS (
        SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS what
          FROM pg_catalog.pg_depend d
          JOIN ours o ON d.refclassid = o.classid AND d.refobjid = o.objid
         WHERE d.deptype = 'n'
           AND NOT EXISTS (SELECT 1 FROM ours o2 WHERE o2.classid = d.classid AND o2.objid = d.objid)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                            WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
                              AND r.ev_class IN (SELECT objid FROM ours))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                            WHERE d.classid = 'pg_catalog.pg_trigger'::regclass AND t.oid = d.objid
                              AND t.tgrelid IN (SELECT objid FROM ours))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                            WHERE d.classid = 'pg_catalog.pg_constraint'::regclass AND k.oid = d.objid
                              AND k.conrelid IN (SELECT objid FROM ours))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attrdef a
                            WHERE d.classid = 'pg_catalog.pg_attrdef'::regclass AND a.oid = d.objid
                              AND a.adrelid IN (SELECT objid FROM ours))
    )
    SELECT string_agg(what, ', ' ORDER BY what) INTO v_dependents FROM dependents;
    IF v_dependents IS NOT NULL THEN
        RAISE EXCEPTION 'cannot remove pgscore: objects outside it depend on it: %', v_dependents
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'drop or detach them first; pgscore removes only what it created';
    END IF;

    SELECT created_plpython INTO v_created FROM pgscore.install_info;
    DROP SCHEMA pgscore CASCADE;
    IF v_created THEN
        BEGIN
            DROP EXTENSION plpython3u;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'kept plpython3u: functions outside pgscore use it';
        END;
    END IF;
END
$do$;
