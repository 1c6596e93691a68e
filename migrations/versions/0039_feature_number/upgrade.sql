-- 0038 to 0039: pgscore.feature_number, a feature's number from a text column or an error naming the model
-- and the feature, for the statements of predict_batch, score_table and rescoring (the cast alone named neither).
CREATE FUNCTION pgscore.feature_number(p_value text, p_model text, p_feature text)
RETURNS float8
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN p_value::float8;
EXCEPTION
    WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'model %: feature % must be a number, got % (its column holds text)', p_model,
              quote_literal(p_feature), quote_literal(left(p_value, 60))
            USING ERRCODE = 'invalid_text_representation',
                  HINT = 'every feature reaches the model as a float8: compute a number from the text in the query (docs/sql.md, ''Features are numbers'')';
    WHEN numeric_value_out_of_range THEN
        RAISE EXCEPTION 'model %: feature % is out of the range of double precision, got % (its column holds text)',
              p_model, quote_literal(p_feature), quote_literal(left(p_value, 60))
            USING ERRCODE = 'numeric_value_out_of_range';
END
$fn$;
COMMENT ON FUNCTION pgscore.feature_number(text, text, text) IS 'Internal: a feature''s number from a text column, or an error naming the model and the feature; used by the statements of predict_batch, score_table and rescoring';
REVOKE EXECUTE ON FUNCTION pgscore.feature_number(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.feature_number(text, text, text) TO pgscore_app, pgscore_admin;
