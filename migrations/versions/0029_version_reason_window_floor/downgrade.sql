-- 0029 to 0028: the versions' reasons go (the deployments keep theirs); a window may again be any length.
ALTER TABLE pgscore.models DROP COLUMN reason;
ALTER TABLE pgscore.drift_windows DROP CONSTRAINT drift_windows_length_check;
ALTER TABLE pgscore.drift_windows ADD CONSTRAINT drift_windows_length_check CHECK (length IS NULL OR length > interval '0');
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches; NULL = since deploy (every prediction of the live version)';

CREATE OR REPLACE FUNCTION pgscore.performance_stats()
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
ROWS 100
AS $fn$
WITH periods AS MATERIALIZED (SELECT * FROM pgscore.monitoring_periods),
j AS (
    SELECT jp.*, p.period_kind, p.period
      FROM pgscore.judged_predictions jp
      JOIN periods p ON jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.period_kind, j.period ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.period_kind, j.period, j.score) - 1) / 2.0 AS score_rank
      FROM j
),
s AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.period_kind, r.period, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score >= r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg((r.label = r.outcome #>> '{}')::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score >= r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score >= r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           avg((r.score - r.y) ^ 2) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           avg(abs(r.score - r.y_value)) AS mae,
           sqrt(avg((r.score - r.y_value) ^ 2)) AS rmse
      FROM r
     GROUP BY r.model_id, r.period_kind, r.period
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           (m.metrics ->> 'auc')::float8 AS deploy_auc, (m.metrics ->> 'accuracy')::float8 AS deploy_accuracy,
           (m.metrics ->> 'brier')::float8 AS deploy_brier, (m.metrics ->> 'log_loss')::float8 AS deploy_log_loss,
           (m.metrics ->> 'mae')::float8 AS deploy_mae, (m.metrics ->> 'rmse')::float8 AS deploy_rmse
      FROM pgscore.live_models m
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
)
SELECT b.*, c.checks, c.status, c.firing, c.min_n,
       (SELECT count(*) FROM pgscore.outcome_matches om WHERE om.model = b.name AND NOT om.matched) AS unmatched_outcomes
  FROM base b
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    ELSE ARRAY[b.rmse / nullif(b.deploy_rmse, 0) - 1] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END])) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats() IS 'Realised performance of every live model and period next to its deploy metrics, with the checks; read it through realised_performance and performance_by_day';
