-- 0040 to 0039: the comments as they were.
COMMENT ON COLUMN pgscore.realised_performance.precision IS 'Of the predictions at or above the decision threshold, the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.performance_by_day.precision IS 'Of the predictions at or above the decision threshold, the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance.recall IS 'Of the positive outcomes, the share predicted at or above the decision threshold (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.performance_by_day.recall IS 'Of the positive outcomes, the share predicted at or above the decision threshold (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.calibration.decile IS 'Score decile, 1 (lowest scores) to 10 (highest), of equal counts';
COMMENT ON VIEW pgscore.calibration IS 'Per live binary classifier: its judged predictions in ten equal-count score deciles, mean score against the observed positive rate';
COMMENT ON COLUMN pgscore.realised_performance.n IS 'How many values (predictions, or matched outcomes) the window holds';
COMMENT ON COLUMN pgscore.realised_performance.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, no_baseline, not_applicable';
COMMENT ON COLUMN pgscore.performance_by_day.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, no_baseline, not_applicable';
