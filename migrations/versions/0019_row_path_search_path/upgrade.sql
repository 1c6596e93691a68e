-- 0018 to 0019: the six row functions run with the caller's search_path. They are not SECURITY
-- DEFINER, and every query they run qualifies its tables, functions, types and operators; the SET
-- clause cost 1.3-1.4 us a call, a sixth of the logistic row path.

ALTER FUNCTION pgscore.score(text, float8[], integer, text) RESET search_path;
ALTER FUNCTION pgscore.score(text, jsonb, integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict(text, float8[], integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict(text, jsonb, integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict_proba(text, float8[], integer, text) RESET search_path;
ALTER FUNCTION pgscore.predict_proba(text, jsonb, integer, text) RESET search_path;
