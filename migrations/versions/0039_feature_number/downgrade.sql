-- 0039 to 0038: without pgscore.feature_number (pgscore's statements then cast text columns bare).
DROP FUNCTION pgscore.feature_number(text, text, text);
