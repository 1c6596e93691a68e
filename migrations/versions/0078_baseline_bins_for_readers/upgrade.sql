-- 0077 to 0078: pgscore.baseline_bins, the baseline every version's drift is measured against, a row per
-- bin (edges, expected share, and the baseline's n, null rate, mean, std, min and max), readable by
-- pgscore_reader: the reader could read drift_counts' counts per bin but not what the bins were nor the
-- training shares, so a BI tool could neither draw baseline against current nor recompute PSI, KS and JS.
/*
 * The baseline every version's drift is measured against, a row per bin: what a reader needs to draw the
 * training distribution next to a window's (drift_counts gives the window's counts per bin) or to recompute
 * PSI, KS and JS; the reader may not read pgscore.baselines itself.
 */
CREATE VIEW pgscore.baseline_bins AS
SELECT m.name AS model, m.version, b.model_id, b.kind, b.feature, b.position, (e.i - 1)::integer AS bin,
       b.edges[e.i - 1] AS lower_edge, b.edges[e.i] AS upper_edge, e.expected,
       b.n AS baseline_n, b.null_rate AS baseline_null_rate, b.mean AS baseline_mean, b.std AS baseline_std,
       b.min AS baseline_min, b.max AS baseline_max
  FROM pgscore.baselines b
  JOIN pgscore.models m ON m.model_id = b.model_id
 CROSS JOIN LATERAL unnest(b.expected) WITH ORDINALITY AS e(expected, i)
 ORDER BY m.name, m.version, b.kind = 'score', b.position, e.i;
COMMENT ON VIEW pgscore.baseline_bins IS 'Per model version, feature (and score) and baseline bin: the bin''s edges and the share of the training values present (not NULL or NaN) that fell in it, which drift is measured against, with the baseline''s n, null rate, mean, std, min and max';
COMMENT ON COLUMN pgscore.baseline_bins.model IS 'Model name';
COMMENT ON COLUMN pgscore.baseline_bins.version IS 'Model version';
COMMENT ON COLUMN pgscore.baseline_bins.model_id IS 'The model version''s row in pgscore.models (drift_counts'' model_id)';
COMMENT ON COLUMN pgscore.baseline_bins.kind IS 'feature or score';
COMMENT ON COLUMN pgscore.baseline_bins.feature IS 'Feature name (''score'' for the score)';
COMMENT ON COLUMN pgscore.baseline_bins.position IS 'The feature''s position in the model''s feature vector (0 for the score)';
COMMENT ON COLUMN pgscore.baseline_bins.bin IS 'Baseline bin, from 0, as drift_counts numbers it: a value v is in it when lower_edge <= v < upper_edge (SQL width_bucket)';
COMMENT ON COLUMN pgscore.baseline_bins.lower_edge IS 'The bin''s lowest value (NULL for the first bin: no lower bound)';
COMMENT ON COLUMN pgscore.baseline_bins.upper_edge IS 'The next bin''s lowest value, not in this bin (NULL for the last bin: no upper bound)';
COMMENT ON COLUMN pgscore.baseline_bins.expected IS 'Share of the training values present (not NULL or NaN) in the bin: the baseline share e of PSI, KS and JS';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_n IS 'How many rows the baseline was captured from (the training rows; for the score, the rows its baseline scored), NULL and NaN values included';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_null_rate IS 'Share of NULL/NaN values in the training data';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_mean IS 'Mean of the training values present';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_std IS 'Population standard deviation (numpy''s std, ddof 0) of the training values present; 0 for a constant: the unit of mean_shift';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_min IS 'Smallest training value: below it a value is out of range';
COMMENT ON COLUMN pgscore.baseline_bins.baseline_max IS 'Largest training value: above it a value is out of range';
GRANT SELECT ON pgscore.baseline_bins TO pgscore_reader, pgscore_admin;
