-- 0028 to 0027: the rescoring trigger's fixed search_path and output settings again (in 0027's order)
ALTER FUNCTION pgscore.rescore_events() RESET ALL;
ALTER FUNCTION pgscore.rescore_events() SET search_path = pg_catalog, pg_temp SET jit = off SET "DateStyle" = 'ISO'
    SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
