/*
 * The audit log with each row's model name and version, for people and BI
 * tools.
 */
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
          FROM unnest(m.feature_names, l.features) f(name, value) WHERE f.name IS NOT NULL) AS features_by_name,
       -- (after it: appended by migration 0139; NULL for a row logged before)
       l.written_by
  FROM pgscore.prediction_log l
  JOIN pgscore.models m ON m.model_id = l.model_id;
COMMENT ON VIEW pgscore.predictions IS 'Every logged prediction with its model name and version';
COMMENT ON COLUMN pgscore.predictions.logged_at IS 'When the prediction was logged (the start of its transaction)';
COMMENT ON COLUMN pgscore.predictions.model IS 'Model name';
COMMENT ON COLUMN pgscore.predictions.version IS 'The model version that produced this prediction';
COMMENT ON COLUMN pgscore.predictions.entity_key IS 'The entity scored, where known (p_key, the batch key, the profile key)';
COMMENT ON COLUMN pgscore.predictions.features IS 'The feature vector, in the model''s feature order (NaN for missing); empty ({}) where pgscore.redact_log_features removed it (0141): features_by_name then names every feature with null';
COMMENT ON COLUMN pgscore.predictions.score IS 'Positive-class probability, top-class probability or regression value';
COMMENT ON COLUMN pgscore.predictions.label IS 'The predicted class, where it was logged: pgscore.predict''s label; a multiclass model''s predicted class whatever logged it (score, predict_proba, batches, rescoring); and the class score_table and score_chunk wrote with p_label_into (since migration 0115) or rescoring wrote into its p_label_column (since migration 0119), a binary classifier''s too; NULL for other scores (a binary classifier''s logged without its class, a regressor''s)';
COMMENT ON COLUMN pgscore.predictions.source IS 'query, batch, trigger, retry, refresh, or shadow (a version scored next to the live one, never served)';
COMMENT ON COLUMN pgscore.predictions.cause IS 'What asked for it: user, application, backend, statement time; the events for triggers';
COMMENT ON COLUMN pgscore.predictions.features_by_name IS 'The feature vector by feature name (migration 0128): {"age": 35, "plan": "pro"}; a text feature''s word, not its code, "(unknown word)" for a word the model was not fitted on (the log keeps its code, -1, not the word) or a code that is no words (given by position: past the list, negative, a fraction); null for NULL or NaN (missing)';
COMMENT ON COLUMN pgscore.predictions.written_by IS 'The login (session_user) of the session that wrote the row (migration 0139): taken by the log itself, no writer may set it; NULL for a row logged before 0139 (not recorded)';
