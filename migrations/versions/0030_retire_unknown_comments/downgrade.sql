-- 0030 to 0029: retire's messages and the comments as they were.
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
        RAISE EXCEPTION 'model % has never been deployed', quote_literal(coalesce(p_name, 'NULL'))
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO pgscore.deployments (model_name, model_id, action, reason)
    VALUES (p_name, v_model_id, 'retire', p_reason);
END
$fn$;
COMMENT ON FUNCTION pgscore.retire(text, text) IS 'Leave a model with no live version (appends a retire row); scoring it then fails until a version is activated';

COMMENT ON COLUMN pgscore.predictions.label IS 'The predicted label, for pgscore.predict';
COMMENT ON VIEW pgscore.score_drift IS 'Per live model and window: the distribution of its scores in the prediction log against the scores of its training data';
COMMENT ON COLUMN pgscore.drift_by_day.mean IS 'Mean of the non-NULL values in the window';
COMMENT ON COLUMN pgscore.drift_by_day.null_rate IS 'Share of NULL/NaN values in the window';
COMMENT ON COLUMN pgscore.drift_by_day.out_of_range IS 'Share of the window''s non-NULL values outside the baseline min..max (null_rate counts the NULL ones)';
COMMENT ON COLUMN pgscore.drift_by_day.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, no_baseline, not_applicable';
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::pg_catalog.regclass AS view, a.attname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = 'pgscore'::pg_catalog.regnamespace AND c.relkind = 'v'
           AND a.attname = 'baseline_mean' AND pg_catalog.col_description(c.oid, a.attnum) = $t$Mean of the feature on the training data; for the score, of the score baseline (the hold-out rows' scores when deployed with a target, else the training data's)$t$
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', r.view, r.attname, $t$Mean of the feature (or score) on the training data$t$);
    END LOOP;
END
$do$;
