-- 0027 to 0028: pgscore.rescore_events (the trigger attach_rescoring creates) runs with the inserting
-- session's search_path and output settings. Every statement it runs qualifies its tables, functions,
-- types and operators, and where a wiring's keys are of a type whose text the output settings change (a
-- date, a timestamp, a float, an interval) it sets DateStyle, IntervalStyle and extra_float_digits around
-- its work and restores them after. The five SET clauses cost a sixth of a single-row INSERT; jit stays off.
-- A counter's expression now resolves its names with the inserting session's search_path.
ALTER FUNCTION pgscore.rescore_events() RESET search_path RESET "DateStyle" RESET "IntervalStyle" RESET extra_float_digits;
