-- 0078 to 0077: drops pgscore.baseline_bins (the reader reads no baseline again).
DROP VIEW pgscore.baseline_bins;
