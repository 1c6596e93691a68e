-- 0025 to 0026: from a walk-through with keys of other types than numbers and text. The functions that
-- turn entity keys into text (the rescoring trigger's audit rows and error queue, retry_failed reading
-- the queued keys back, score_chunk's resume key, predict_batch's keys) did it in the session's settings:
-- a date key queued under DateStyle 'SQL, DMY' as 04/03/2002 was read back under ISO as 2002-04-03, a
-- different customer. They now run with fixed output settings.
ALTER FUNCTION pgscore.rescore_events()
    SET "DateStyle" = 'ISO, MDY' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
ALTER FUNCTION pgscore.retry_failed(text, integer)
    SET "DateStyle" = 'ISO, MDY' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
ALTER FUNCTION pgscore.score_chunk(text, regclass, name, name, text, integer, integer, boolean)
    SET "DateStyle" = 'ISO, MDY' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
ALTER FUNCTION pgscore.batch_chunks(text, text, integer, integer, boolean, text)
    SET "DateStyle" = 'ISO, MDY' SET "IntervalStyle" = 'postgres' SET extra_float_digits = 1;
