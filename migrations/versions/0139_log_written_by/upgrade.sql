-- 0138 to 0139: each audit row names the login that wrote it, pgscore.prediction_log.written_by (session_user),
-- a default that no pgscore role may set: the roles' INSERT on the log is on its other columns (0127's grant,
-- unchanged). A pgscore_app login wrote rows whose cause named another role, with a real query's backend and
-- statement time, and nothing told them from pgscore's own. session_user, not current_user: the query path's rows
-- are written at COMMIT by flush_query_log as the log's owner, and SET ROLE does not change the login.
-- Added without a default, then given it: no rewrite of the log (a default on ADD COLUMN would be evaluated once,
-- and every old row would name the role migrating); old rows keep NULL, not recorded. SET DEFAULT reaches every
-- partition (and create_log_partitions copies it: LIKE ... INCLUDING DEFAULTS).
ALTER TABLE pgscore.prediction_log ADD COLUMN written_by text;
ALTER TABLE pgscore.prediction_log ALTER COLUMN written_by SET DEFAULT SESSION_USER;
COMMENT ON COLUMN pgscore.prediction_log.written_by IS 'The login (session_user) of the session that wrote the row: its default, a column no pgscore role may INSERT (migration 0139); NULL for a row logged before 0139 (not recorded)';

-- pgscore.predictions shows it as its last column: CREATE OR REPLACE keeps the view's owner, grants and comments
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
          FROM unnest(m.feature_names, l.features) f(name, value) WHERE f.name IS NOT NULL) AS features_by_name,
       -- (after it: appended by migration 0139; NULL for a row logged before)
       l.written_by
  FROM pgscore.prediction_log l
  JOIN pgscore.models m ON m.model_id = l.model_id;
COMMENT ON COLUMN pgscore.predictions.written_by IS 'The login (session_user) of the session that wrote the row (migration 0139): taken by the log itself, no writer may set it; NULL for a row logged before 0139 (not recorded)';
