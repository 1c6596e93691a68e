-- 0126 downgrade: alerts as 0125 left it (a view drops no column: dropped and made again, with its comments and
-- grants), the functions and pgscore.alert_silences dropped, with the silences in it
DROP VIEW pgscore.alerts;
CREATE VIEW pgscore.alerts AS
SELECT f.model, f.version, f.what, f.subject, f.window_name, f.metric, f.value, f.threshold, f.level, s.first_seen AS since,
       f.shadow
  FROM pgscore.firing f
  LEFT JOIN pgscore.alert_state s ON s.model = f.model AND s.version = f.version AND s.what = f.what
        AND s.subject = f.subject AND s.window_name = f.window_name AND s.metric = f.metric AND s.level = f.level
 ORDER BY f.level = 'alert' DESC, f.model, f.shadow, f.version, f.what, f.subject, f.sort_order, f.metric;
COMMENT ON COLUMN pgscore.alerts.model IS 'Model name';
COMMENT ON COLUMN pgscore.alerts.version IS 'Model version';
COMMENT ON COLUMN pgscore.alerts.what IS 'feature, score or performance';
COMMENT ON COLUMN pgscore.alerts.subject IS 'The feature, ''score'', or ''outcomes'' for realised performance';
COMMENT ON COLUMN pgscore.alerts.window_name IS 'The window (pgscore.drift_windows)';
COMMENT ON COLUMN pgscore.alerts.metric IS 'The metric (pgscore.drift_thresholds lists them)';
COMMENT ON COLUMN pgscore.alerts.value IS 'The metric''s current value';
COMMENT ON COLUMN pgscore.alerts.threshold IS 'The threshold crossed (the alert level for alerts, the warn level for warnings)';
COMMENT ON COLUMN pgscore.alerts.level IS 'warn or alert: the level the condition reached (conditions below warn are not listed)';
COMMENT ON COLUMN pgscore.alerts.since IS 'When pgscore.refresh_monitoring() first saw this condition firing (NULL until it has run since)';
COMMENT ON COLUMN pgscore.alerts.shadow IS 'true for a condition of a version scored in shadow (pgscore.shadow_versions): its drift against its own baseline, its realised performance by its own predictions (as realised_performance_by_version); false for the live version''s';
COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, of a classifier''s predicted-class mix (what class, subject mix, metric class_mix: pgscore.class_drift, since 0122; the live version''s alone), or realised performance (subject outcomes: the window''s predictions judged so far; since 0125 subject outcomes by recorded time: the predictions whose outcome was recorded in the window, realised_performance_by_outcome_time), at warn or alert level in some window, of each model''s live version and of each shadow version scored next to it (shadow true)';
GRANT SELECT ON pgscore.alerts TO pgscore_reader, pgscore_admin;

DROP FUNCTION pgscore.lift_silence(bigint);
DROP FUNCTION pgscore.silence_alerts(text, interval, text, text, text, text, text, boolean, timestamptz);
DROP TABLE pgscore.alert_silences;
DROP FUNCTION pgscore.guard_alert_silences();
