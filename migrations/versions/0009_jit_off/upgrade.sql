-- 0009 JIT off in the rescoring trigger, retry_failed and score_chunk: their big statements are
-- estimated past jit_above_cost, and compiling them cost more than running them

ALTER FUNCTION pgscore.rescore_events() SET jit = off;
ALTER FUNCTION pgscore.retry_failed(text, integer) SET jit = off;
ALTER FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean) SET jit = off;
