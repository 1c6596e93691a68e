-- 0138 to 0137: the views comparing a shadow with the live version, dropped (shadow_comparison reads shadow_pairs)
DROP VIEW pgscore.realised_against_live;
DROP VIEW pgscore.shadow_comparison;
DROP VIEW pgscore.shadow_pairs;
