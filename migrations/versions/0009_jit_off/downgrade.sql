-- 0009 undone: JIT as the server sets it

ALTER FUNCTION pgscore.rescore_events() RESET jit;
ALTER FUNCTION pgscore.retry_failed(text, integer) RESET jit;
ALTER FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean) RESET jit;
