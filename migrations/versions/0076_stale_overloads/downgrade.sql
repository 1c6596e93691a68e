-- 0076 to 0075: nothing to make again: the functions 0076 drops are not 0075's (no revision's final text
-- defines them).
SELECT 1;
