-- 0156 to 0155: no pgscore.delete_model; explain_model_delete's hint as 0135 wrote it

DROP FUNCTION pgscore.delete_model(text);

CREATE OR REPLACE FUNCTION pgscore.explain_model_delete() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_refs text[];
BEGIN
    v_refs := array_remove(ARRAY[
        CASE WHEN EXISTS (SELECT 1 FROM pgscore.artifacts a WHERE a.model_id = OLD.model_id)
             THEN 'pgscore.artifacts' END,
        CASE WHEN EXISTS (SELECT 1 FROM pgscore.deployments d WHERE d.model_id = OLD.model_id)
             THEN 'pgscore.deployments' END,
        CASE WHEN EXISTS (SELECT 1 FROM pgscore.shadows s WHERE s.model_id = OLD.model_id)
             THEN 'pgscore.shadows' END,
        CASE WHEN EXISTS (SELECT 1 FROM pgscore.baselines b WHERE b.model_id = OLD.model_id)
             THEN 'pgscore.baselines' END,
        CASE WHEN EXISTS (SELECT 1 FROM pgscore.evaluators e WHERE e.model_id = OLD.model_id)
             THEN 'pgscore.evaluators' END],
        NULL);
    IF cardinality(v_refs) > 0 THEN
        RAISE EXCEPTION 'model % v% cannot be deleted: its rows in % refer to it', quote_literal(OLD.name),
                        OLD.version, array_to_string(v_refs, ', ')
            USING ERRCODE = 'foreign_key_violation',
                  HINT = format('pgscore keeps every version, which its audit log names: to stop scoring a model, '
                                'pgscore retire %s; to delete one entirely, see docs/operations.md, "Deleting a '
                                'model"', OLD.name);
    END IF;
    RETURN OLD;
END
$fn$;
COMMENT ON FUNCTION pgscore.explain_model_delete() IS 'Trigger function of pgscore.models: refuses a DELETE of a version that its artifact, deployments, shadows, baselines or evaluator still refer to (23503, naming them, with a hint: pgscore retire, or docs/operations.md "Deleting a model") instead of the bare foreign key error (migration 0135)';
