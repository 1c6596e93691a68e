-- 0039 to 0040: the comments BI tools show for realised precision and recall, and for the calibration
-- deciles, say what the views compute since migration 0036: a score equal to the decision threshold is the
-- negative class (they said "at or above"), and deciles are by rank, equal scores sharing one (they said
-- "of equal counts"); realised_performance's n counts the window's predictions that have a matched outcome,
-- and neither performance view reports no_baseline.
COMMENT ON COLUMN pgscore.realised_performance.precision IS 'Of the predictions above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it), the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.performance_by_day.precision IS 'Of the predictions above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it), the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance.recall IS 'Of the positive outcomes, the share scored above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it) (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.performance_by_day.recall IS 'Of the positive outcomes, the share scored above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it) (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.calibration.decile IS 'Score decile by rank, 1 (lowest scores) to 10 (highest): equal scores share a decile, so with ties the deciles hold unequal counts and a decile a tie fills is not listed';
COMMENT ON VIEW pgscore.calibration IS 'Per live binary classifier: its judged predictions in ten score deciles by rank (equal scores share one, so with ties the counts differ), mean score against the observed positive rate';
COMMENT ON COLUMN pgscore.realised_performance.n IS 'How many predictions made in the window have a matched outcome';
COMMENT ON COLUMN pgscore.realised_performance.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
COMMENT ON COLUMN pgscore.performance_by_day.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
