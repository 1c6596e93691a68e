-- 0117 to 0116: backfill_rescoring goes; its audit rows stay (source 'refresh', which the log's CHECK allows
-- since 0044; their cause's via still says backfill_rescoring).
DROP FUNCTION pgscore.backfill_rescoring(regclass);
