-- 0075 to 0076: the two functions a build of migration 0060 at its first commit (1b85b52) left, which no
-- revision's final text defines: pgscore.set_shadow(text, integer, text), which made every set_shadow call
-- without p_force ambiguous (42725), and pgscore.load_or_refuse(bigint, text, text, boolean). A database built
-- from the final texts has neither: IF EXISTS.
DROP FUNCTION IF EXISTS pgscore.set_shadow(text, integer, text);
DROP FUNCTION IF EXISTS pgscore.load_or_refuse(bigint, text, text, boolean);
