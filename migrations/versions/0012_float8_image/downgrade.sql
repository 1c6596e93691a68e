-- 0012 down: features leave PostgreSQL through array_send again (backends that found the function
-- keep using it until they reconnect)

DROP FUNCTION pgscore.float8_image(float8[]);
