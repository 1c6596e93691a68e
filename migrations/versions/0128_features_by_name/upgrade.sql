-- 0127 to 0128: pgscore.predictions takes a last column, features_by_name: each logged feature by name, a text
-- feature's word (not its code), "(unknown word)" for the code -1, null for NULL or NaN (a BI reader explaining a
-- score decoded float8[] positions and codes by hand, and text_categories -> f -> -1 is the LAST word). Appended:
-- CREATE OR REPLACE keeps the view's owner, grants and columns' comments (BI tools keep the columns' order).
CREATE OR REPLACE VIEW pgscore.predictions AS
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
COMMENT ON COLUMN pgscore.predictions.features_by_name IS 'The feature vector by feature name (migration 0128): {"age": 35, "plan": "pro"}; a text feature''s word, not its code, "(unknown word)" for a word the model was not fitted on (the log keeps its code, -1, not the word) or a code that is no words (given by position: past the list, negative, a fraction); null for NULL or NaN (missing)';
