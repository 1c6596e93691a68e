-- 0127 to 0125: INSERT on the whole of pgscore.prediction_log for the application and the administrator again
-- (logged_at included), as 0125 left it.

REVOKE INSERT (model_id, entity_key, features, score, label, source, cause) ON pgscore.prediction_log
    FROM pgscore_app, pgscore_admin;
GRANT INSERT ON pgscore.prediction_log TO pgscore_app, pgscore_admin;
