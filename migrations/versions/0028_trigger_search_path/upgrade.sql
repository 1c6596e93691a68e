-- 0027 to 0028: pgscore.rescore_events (the trigger attach_rescoring creates) runs with the inserting
-- session's search_path and output settings. Every statement it runs qualifies its tables, functions,
-- types and operators; where a wiring's keys are of a type whose text the output settings change (a date,
-- a timestamp, a float, an interval), or a counter's expression is more than a column or a number, it sets
-- search_path, DateStyle, IntervalStyle and extra_float_digits as before around its work and gives the
-- session's back after. The five SET clauses cost a sixth of a single-row INSERT; jit stays off.
ALTER FUNCTION pgscore.rescore_events() RESET search_path RESET "DateStyle" RESET "IntervalStyle" RESET extra_float_digits;
