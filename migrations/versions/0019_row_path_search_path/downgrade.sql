-- 0019 back to 0018: the six row functions with their fixed search_path again

ALTER FUNCTION pgscore.score(text, float8[], integer, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pgscore.score(text, jsonb, integer, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pgscore.predict(text, float8[], integer, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pgscore.predict(text, jsonb, integer, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pgscore.predict_proba(text, float8[], integer, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pgscore.predict_proba(text, jsonb, integer, text) SET search_path = pg_catalog, pg_temp;
