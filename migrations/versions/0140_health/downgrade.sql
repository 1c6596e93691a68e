-- 0140 to 0139: pgscore.health() dropped
DROP FUNCTION pgscore.health();
