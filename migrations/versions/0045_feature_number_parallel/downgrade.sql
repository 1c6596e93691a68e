-- 0045 to 0044: feature_number declared PARALLEL SAFE again.
ALTER FUNCTION pgscore.feature_number(text, text, text) PARALLEL SAFE;
