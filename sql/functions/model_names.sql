/*
 * (migration 0135) A model deleted by hand. pgscore keeps every version (its audit log names them), and offers no
 * delete: DELETE FROM pgscore.models failed with a bare 23503 naming a foreign key. It is refused here first,
 * naming what refers to the version and how to stop scoring a model or delete one (docs/operations.md). What is
 * keyed by the model's name alone (silences, threshold overrides, alert state; no foreign key) outlived a deletion
 * by hand and held for any model later deployed under the name: a name's first version drops them.
 */
CREATE FUNCTION pgscore.explain_model_delete() RETURNS trigger
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
                  -- (0156: the command that deletes a model nothing depends on, before the rows by hand)
                  HINT = format('pgscore keeps every version, which its audit log names: to stop scoring a model, '
                                'pgscore retire %s; to delete one that nothing depends on (no predictions, '
                                'outcomes, wiring, shadow), pgscore delete %s (pgscore.delete_model); else see '
                                'docs/operations.md, "Deleting a model"', OLD.name, OLD.name);
    END IF;
    RETURN OLD;
END
$fn$;
COMMENT ON FUNCTION pgscore.explain_model_delete() IS 'Trigger function of pgscore.models: refuses a DELETE of a version that its artifact, deployments, shadows, baselines or evaluator still refer to (23503, naming them, with a hint: pgscore retire, pgscore delete since 0156, or docs/operations.md "Deleting a model") instead of the bare foreign key error (migration 0135)';

CREATE FUNCTION pgscore.forget_deleted_namesake() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_silences bigint;
    v_overrides bigint := 0;
    v_states bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = NEW.name AND m.model_id <> NEW.model_id) THEN
        RETURN NULL;  -- not the name's first version: what it holds is the model's own
    END IF;
    DELETE FROM pgscore.alert_silences q WHERE q.model = NEW.name;
    GET DIAGNOSTICS v_silences = ROW_COUNT;
    -- (only where there are some: a DELETE, even of no row, takes the threshold writers' turn, 0133: the
    -- overrides' lock and a write of threshold_writes, which every first deploy need not)
    IF EXISTS (SELECT 1 FROM pgscore.drift_threshold_overrides o WHERE o.model = NEW.name) THEN
        DELETE FROM pgscore.drift_threshold_overrides o WHERE o.model = NEW.name;
        GET DIAGNOSTICS v_overrides = ROW_COUNT;
    END IF;
    DELETE FROM pgscore.alert_state a WHERE a.model = NEW.name;
    GET DIAGNOSTICS v_states = ROW_COUNT;
    IF v_silences + v_overrides + v_states > 0 THEN
        RAISE NOTICE 'model % v%: % silence(s), % threshold override(s) and % alert state row(s) left by a deleted '
                     'model of that name dropped', NEW.name, NEW.version, v_silences, v_overrides, v_states;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION pgscore.forget_deleted_namesake() IS 'Trigger function of pgscore.models: a name''s first version (no other row of the name) drops the silences, threshold overrides and alert state a deleted model of that name left (keyed by name, no foreign key), with a NOTICE; SECURITY DEFINER (migration 0135)';
