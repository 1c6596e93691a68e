-- 0044 to 0045: feature_number's EXCEPTION block starts a subtransaction, which a parallel worker (and a
-- leader while workers run) may not: it is PARALLEL UNSAFE, so a query calling it is planned without workers.
ALTER FUNCTION pgscore.feature_number(text, text, text) PARALLEL UNSAFE;
