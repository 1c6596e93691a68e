-- 0026 to 0025: the key-to-text functions in the session's settings again.
ALTER FUNCTION pgscore.rescore_events() RESET "DateStyle" RESET "IntervalStyle" RESET extra_float_digits;
ALTER FUNCTION pgscore.retry_failed(text, integer) RESET "DateStyle" RESET "IntervalStyle" RESET extra_float_digits;
ALTER FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean)
    RESET "DateStyle" RESET "IntervalStyle" RESET extra_float_digits;
ALTER FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text)
    RESET "DateStyle" RESET "IntervalStyle" RESET extra_float_digits;
