-- 0029 to 0030: pgscore.retire of a name no version was stored under says "there is no model", as activate
-- and rollback do (it said "has never been deployed"); of a model stored without ever going live, that it has
-- no live version to retire (55000).
CREATE OR REPLACE FUNCTION pgscore.retire(p_name text, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_model_id bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'pgscore.retire: model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT d.model_id INTO v_model_id FROM pgscore.deployments d
     WHERE d.model_name = p_name ORDER BY d.deployment_id DESC LIMIT 1;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgscore.models m WHERE m.name = p_name) THEN  -- stored, never made live
            RAISE EXCEPTION 'model % has no live version to retire: none of its versions was ever made live',
                  quote_literal(p_name) USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'there is no model %', quote_literal(p_name) USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row); scoring it then fails until a version is activated';

-- Comments that BI tools read and that had fallen behind: the log's label (a multiclass model's class on
-- every path since 0017), the score baseline (the hold-out rows' scores when deployed with a target), and
-- drift_by_day's columns (a day, not a window; no no_baseline status: such a model has no rows there).
COMMENT ON COLUMN pgscore.predictions.label IS 'The predicted class: pgscore.predict''s label, and for a multiclass model the predicted class whatever logged it (score, predict_proba, batches, rescoring); NULL for other models'' scores';
COMMENT ON VIEW pgscore.score_drift IS 'Per live model and window: the distribution of its scores in the prediction log against its score baseline (the scores of the hold-out rows when it was deployed with a target, else of its training data)';
COMMENT ON COLUMN pgscore.drift_by_day.mean IS 'Mean of the day''s non-NULL values';
COMMENT ON COLUMN pgscore.drift_by_day.null_rate IS 'Share of NULL/NaN values among the day''s';
COMMENT ON COLUMN pgscore.drift_by_day.out_of_range IS 'Share of the day''s non-NULL values outside the baseline min..max (null_rate counts the NULL ones)';
COMMENT ON COLUMN pgscore.drift_by_day.status IS 'The worst level among the day''s metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::pg_catalog.regclass AS view, a.attname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = 'pgscore'::pg_catalog.regnamespace AND c.relkind = 'v'
           AND a.attname = 'baseline_mean' AND pg_catalog.col_description(c.oid, a.attnum) = $t$Mean of the feature (or score) on the training data$t$
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', r.view, r.attname, $t$Mean of the feature on the training data; for the score, of the score baseline (the hold-out rows' scores when deployed with a target, else the training data's)$t$);
    END LOOP;
END
$do$;
