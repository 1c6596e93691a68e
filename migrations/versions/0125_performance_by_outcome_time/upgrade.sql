-- 0125 performance_by_outcome_time: realised performance over the predictions judged recently, by when their
-- outcome was recorded (outcomes.recorded_at), whenever they were made: performance_stats_of's period kind
-- outcome_window, pgscore.realised_performance_by_outcome_time, and its warn and alert in alerts (subject
-- 'outcomes by recorded time'); judged_predictions (and per version) carry the judging outcome's id

-- Each judged prediction once, with the newest outcome observed for it: an outcome recorded again for
-- the same prediction (a correction, or a job that ran twice) replaces the earlier one in the metrics;
-- outcome_matches keeps every outcome.
CREATE OR REPLACE VIEW pgscore.judged_predictions AS
SELECT DISTINCT ON (om.model_id, om.entity_key, om.predicted_at)
       m.model_id, m.name, m.version, m.task, m.metrics, om.predicted_at, om.score, om.label, om.outcome,
       CASE WHEN m.task = 'binary' THEN (om.outcome = m.classes -> 1)::integer END AS y,
       -- (0113: an outcome stored past float8's range, 1.79769313486232e+308 as record_outcome stored float8's
       -- largest at extra_float_digits 0 before, is missing, no error; a threshold that is no float8, 0.5)
       CASE WHEN m.task = 'regression' THEN pgscore.jsonb_float8(om.outcome) END AS y_value,
       coalesce(pgscore.jsonb_float8(m.metrics -> 'threshold'), 0.5) AS threshold,
       -- appended (migration 0125): the outcome judging it, whose recorded_at places it in a window by outcome time
       om.outcome_id
  FROM pgscore.outcome_matches om
  JOIN pgscore.live_models m ON m.model_id = om.model_id
 ORDER BY om.model_id, om.entity_key, om.predicted_at, om.observed_at DESC, om.outcome_id DESC;
COMMENT ON VIEW pgscore.judged_predictions IS 'Internal: predictions of the live version that outcomes judge, each once with the newest outcome observed for it (outcome_id, since 0125), with the binary target or the regression value';
COMMENT ON COLUMN pgscore.judged_predictions.outcome_id IS 'The outcome judging the prediction (the newest observed for it): its recorded_at places the prediction in a window by outcome time (migration 0125)';

-- The same per version: every version's own predictions that outcomes judge (pgscore.outcome_version_matches),
-- each once with the newest outcome observed for it, whichever version is live. The newest outcome is picked
-- among the thin rows (no model's metrics or classes carried through the sort: with them 200,000 matches
-- sorted on disk), the model joined after; model_id is the matches' own, so that a condition on it (the shadow
-- versions', performance_stats_of) is checked as they are read, before the sort
CREATE OR REPLACE VIEW pgscore.judged_predictions_by_version AS
SELECT d.model_id, m.name, m.version, m.task, m.metrics, d.predicted_at, d.score, d.label, d.outcome,
       CASE WHEN m.task = 'binary' THEN (d.outcome = m.classes -> 1)::integer END AS y,
       CASE WHEN m.task = 'regression' THEN pgscore.jsonb_float8(d.outcome) END AS y_value,
       coalesce(pgscore.jsonb_float8(m.metrics -> 'threshold'), 0.5) AS threshold,
       d.outcome_id  -- (appended, migration 0125: as judged_predictions')
  FROM (SELECT DISTINCT ON (vm.model_id, o.entity_key, vm.predicted_at)
               vm.model_id, vm.predicted_at, vm.score, vm.label, o.outcome, o.outcome_id
          FROM pgscore.outcome_version_matches vm
          JOIN pgscore.outcomes o ON o.outcome_id = vm.outcome_id
         ORDER BY vm.model_id, o.entity_key, vm.predicted_at, o.observed_at DESC, o.outcome_id DESC) d
  JOIN pgscore.models m ON m.model_id = d.model_id;
COMMENT ON VIEW pgscore.judged_predictions_by_version IS 'Internal: predictions of every version that outcomes judge (each outcome against each version''s own newest prediction of the entity before it), each once with the newest outcome observed for it (outcome_id, since 0125)';
COMMENT ON COLUMN pgscore.judged_predictions_by_version.outcome_id IS 'The outcome judging the prediction (the newest observed for it): its recorded_at places the prediction in a window by outcome time (migration 0125)';

-- (calibration again, as it was: its jp.* is expanded when it is made, and the head's carries outcome_id)
CREATE OR REPLACE VIEW pgscore.calibration AS
SELECT name AS model, version, decile, count(*) AS n, avg(score) AS mean_score, avg(y)::float8 AS observed_rate,
       min(score) AS min_score, max(score) AS max_score
  -- deciles by rank, so that equal scores share one (ntile split them by entity key): with ties they hold
  -- unequal counts, and a decile a tie fills is not listed
  FROM (SELECT jp.*, (1 + floor(10.0 * (rank() OVER (PARTITION BY jp.model_id ORDER BY jp.score) - 1)
                                / count(*) OVER (PARTITION BY jp.model_id)))::integer AS decile
          FROM pgscore.judged_predictions jp WHERE jp.task = 'binary' AND jp.score IS NOT NULL) d
 GROUP BY name, version, decile
 ORDER BY model, decile;

-- check_period_kind names performance_stats_of's own kinds (outcome_window, both_windows) in its error, and what
-- NULL gives it: a caller who misspelt outcome_window was told 'window' or 'day', or NULL for all
CREATE OR REPLACE FUNCTION pgscore.check_period_kind(p_function text, p_period_kind text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- monitoring_periods' period_kind; and performance_stats_of's own (migration 0125), which its error names:
    -- it said "must be 'window' or 'day', or NULL for all" to a caller of outcome_window who mistyped it
    v_perf  CONSTANT boolean := p_function IS NOT DISTINCT FROM 'pgscore.performance_stats_of';
    v_kinds CONSTANT text[] := ARRAY['window', 'day']
                               || CASE WHEN v_perf THEN ARRAY['outcome_window', 'both_windows'] ELSE '{}' END;
BEGIN
    IF p_period_kind IS NULL OR p_period_kind = ANY (v_kinds) THEN
        RETURN p_period_kind;
    END IF;
    RAISE EXCEPTION '%: p_period_kind must be %, or NULL for %; got %', coalesce(p_function, 'pgscore'),
          (SELECT string_agg(quote_literal(k), ' or ' ORDER BY i) FROM unnest(v_kinds) WITH ORDINALITY u(k, i)),
          CASE WHEN v_perf THEN 'window and day' ELSE 'all' END, quote_literal(p_period_kind)
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'p_period, a window''s name or a UTC day (YYYY-MM-DD), picks one period of that kind';
END
$fn$;
COMMENT ON FUNCTION pgscore.check_period_kind(text, text) IS 'Internal: p_period_kind if it is a kind of period monitoring_periods gives (window or day) or NULL, for pgscore.performance_stats_of also outcome_window or both_windows (migration 0125); else an error (22023) naming p_function, its kinds and the value given';

-- Realised performance per live model and period (p_by_version false: each outcome against the newest
-- prediction of any version, judged_predictions), or per version (true: each outcome against each
-- version's own, judged_predictions_by_version; every version an outcome judges, and each live one): a
-- SECURITY DEFINER function with JIT off, for the reasons given at drift_stats(). Each judged prediction is
-- put in the periods that hold it (a window by its bounds, a day by the day it was made: a hash join, where
-- comparing it with each of the 35 periods cost 1.8 s for 200,000), each period named by a number, and only
-- what the metrics read is carried through the sort by period and score (it went to disk with every
-- column of judged_predictions and text period names; and work_mem is raised as drift_stats_of's is):
-- realised_performance_by_version for 200,000 judged predictions, see docs/performance.md ("Per version").
-- Its checks' values are written at extra_float_digits 1 (migration 0087), as drift_stats_of's are: at a
-- session's 0 they had 15 digits, and a value just under its threshold read as at it.
-- (migration 0125) A third kind, outcome_window, asked for by name alone (NULL gives window and day, as before):
-- each window again, holding the judged predictions whose outcome was recorded (outcomes.recorded_at) within
-- it, whenever they were made. Outcomes that arrive one or two weeks late judge predictions the windows by
-- prediction time have moved past (or blend into weeks of others); by outcome time they are judged, and alert,
-- when they arrive. recorded_at, not observed_at: an outcome recorded today with p_observed_at a week back has
-- arrived today, and is judged in today's windows.
CREATE OR REPLACE FUNCTION pgscore.performance_stats_of(p_by_version boolean, p_model_ids bigint[], p_period_kind text)
RETURNS TABLE (model_id bigint, name text, version integer, task text, period_kind text, period text,
               sort_order integer, n bigint, positives bigint, auc float8, accuracy float8, "precision" float8,
               recall float8, brier float8, log_loss float8, mae float8, rmse float8, deploy_auc float8,
               deploy_accuracy float8, deploy_brier float8, deploy_log_loss float8, deploy_mae float8,
               deploy_rmse float8, checks jsonb, status text, firing text, min_n integer, unmatched_outcomes bigint)
LANGUAGE sql STABLE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
SET extra_float_digits = 1
ROWS 100
AS $fn$
-- (outcome_window and both_windows are this function's alone: the drift functions count values logged, which have
-- no outcome; check_period_kind names them for this function)
SELECT pgscore.check_period_kind('pgscore.performance_stats_of', p_period_kind);
WITH periods AS MATERIALIZED (
    SELECT q.*, row_number() OVER ()::integer AS pid
      FROM (SELECT mp.period_kind, mp.period, mp.sort_order, mp.starts, mp.ends FROM pgscore.monitoring_periods mp
             WHERE p_period_kind IS NULL OR mp.period_kind = p_period_kind
                OR (p_period_kind = 'both_windows' AND mp.period_kind = 'window')
            UNION ALL
            -- (0125) the windows again, by when the outcomes were recorded (both_windows: alerts' one pass)
            SELECT 'outcome_window', mp.period, mp.sort_order, mp.starts, mp.ends FROM pgscore.monitoring_periods mp
             WHERE p_period_kind IN ('outcome_window', 'both_windows') AND mp.period_kind = 'window') q),
jp AS MATERIALIZED (
    SELECT x.model_id, x.task, x.predicted_at, x.score, x.y, x.y_value, x.threshold,
           x.label = x.outcome #>> '{}' AS label_right, x.outcome_id
      FROM (SELECT * FROM pgscore.judged_predictions WHERE NOT p_by_version
            UNION ALL
            SELECT * FROM pgscore.judged_predictions_by_version WHERE p_by_version) x
     -- (through the by-version view's DISTINCT ON to the matches' scan: only the versions asked for are sorted)
     WHERE p_model_ids IS NULL OR x.model_id = ANY (p_model_ids)
),
j AS (
    SELECT jp.*, p.pid
      FROM jp JOIN periods p ON p.period_kind = 'window' AND jp.predicted_at >= p.starts AND jp.predicted_at < p.ends
    UNION ALL
    -- a day period is [d, d + 24 hours) from a UTC midnight d (monitoring_periods): the day the prediction was made
    SELECT jp.*, p.pid
      FROM jp JOIN periods p ON p.period_kind = 'day' AND p.starts = date_trunc('day', jp.predicted_at, 'UTC')
    UNION ALL
    -- (0125) an outcome window by its judging outcome's recorded_at (read only when outcome windows are asked for)
    SELECT jp.*, p.pid
      FROM jp JOIN pgscore.outcomes o ON o.outcome_id = jp.outcome_id
      JOIN periods p ON p.period_kind = 'outcome_window' AND o.recorded_at >= p.starts AND o.recorded_at < p.ends
     WHERE p_period_kind IN ('outcome_window', 'both_windows')
),
r AS (
    SELECT j.*, rank() OVER (PARTITION BY j.model_id, j.pid ORDER BY j.score)
               + (count(*) OVER (PARTITION BY j.model_id, j.pid, j.score) - 1) / 2.0 AS score_rank,
           -- (migration 0112) a regressor's absolute error as the MAE and RMSE sum it: past 1e140 at 1e140, below
           -- 1e-140 at 0, a NaN or infinite score's NaN or infinity. avg(abs(e)) and sqrt(avg(e ^ 2)) raised 22003
           -- (and failed performance_stats, every realised-performance view and alerts for every model) at an error
           -- past 1.3e154 (its square), a nonzero one below 1e-162 (its square underflows), errors past 1e77 (avg()
           -- of float8 keeps their sum of squares), or a score and an outcome past float8's range apart: one outcome
           -- recorded wrong or one absurd prediction. (The bounds keep a sum of 1e28 squares and its quotient by the
           -- count within float8's range.)
           CASE WHEN a.e = 'NaN' OR a.e = 'Infinity' THEN a.e WHEN a.e > 1e140 THEN 1e140 WHEN a.e < 1e-140 THEN 0
                ELSE a.e END AS abs_error
      FROM j
     CROSS JOIN LATERAL (
           -- of opposite signs with one past 1e140, the error is past it too: the difference is not computed
           SELECT CASE WHEN j.y_value IS NULL OR j.score IS NULL THEN NULL  -- (a classifier's: none)
                       WHEN j.score = 'NaN' THEN 'NaN'::float8
                       WHEN j.score IN ('Infinity'::float8, '-Infinity'::float8) THEN 'Infinity'::float8
                       WHEN (j.score >= 0) = (j.y_value >= 0) OR (abs(j.score) <= 1e140 AND abs(j.y_value) <= 1e140)
                       THEN abs(j.score - j.y_value) ELSE 1e140 END AS e) a
),
s0 AS (  -- AUC from the rank sum of the positives (Mann-Whitney); log loss clipped at float64 eps like scikit-learn
    SELECT r.model_id, r.pid, count(*) AS n, sum(r.y) AS positives,
           ((sum(r.score_rank) FILTER (WHERE r.y = 1) - sum(r.y) * (sum(r.y) + 1) / 2.0)
                / nullif(sum(r.y) * (count(*) - sum(r.y)), 0))::float8 AS auc,
           -- positive above the threshold: a score of exactly 0.5 is the negative class, as predict gives it
           (CASE WHEN min(r.task) = 'binary' THEN avg(((r.score > r.threshold)::integer = r.y)::integer)
                 WHEN min(r.task) = 'multiclass' THEN avg(r.label_right::integer) END)::float8 AS accuracy,
           -- binary only: a multiclass model has no positive class (y is NULL), where these gave 0
           CASE WHEN min(r.task) = 'binary' THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8
               / nullif(sum((r.score > r.threshold)::integer), 0) END AS "precision",
           CASE WHEN min(r.task) = 'binary'
                THEN sum(((r.score > r.threshold) AND r.y = 1)::integer)::float8 / nullif(sum(r.y), 0) END AS recall,
           -- (0113) a binary classifier's squared error, where the score is within 1e-150 of the outcome, is 0;
           -- past 1e140 from it (a broken model's score), 1e280: a probability below 1.5e-162 of a negative (a
           -- logistic model's at a decision value under -372) squared to below float8's range, 22003, and every
           -- model's realised-performance views, alerts and refresh_monitoring failed. As a sum over the count,
           -- avg()'s float8 (avg() keeps a sum of squares, past float8 at 1e280). Here, not in r: carried through
           -- r's sort it cost more than it does
           sum(CASE WHEN abs(r.score - r.y) BETWEEN 1e-150 AND 1e140 THEN (r.score - r.y) ^ 2
                    WHEN r.score = 'NaN' OR abs(r.score - r.y) = 'Infinity' THEN abs(r.score - r.y)
                    WHEN abs(r.score - r.y) < 1e-150 THEN 0
                    WHEN abs(r.score - r.y) > 1e140 THEN 1e280 END) / nullif(count(r.score - r.y), 0) AS brier,
           -avg(r.y * ln(least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))
                + (1 - r.y) * ln(1 - least(greatest(r.score, 2.220446049250313e-16), 1 - 2.220446049250313e-16))) AS log_loss,
           -- (0112) as a sum over the count, the same float8 as avg()'s where it did not overflow
           sum(r.abs_error) / nullif(count(r.abs_error), 0) AS mae,
           sqrt(sum(r.abs_error ^ 2) / nullif(count(r.abs_error), 0)) AS rmse
      FROM r
     GROUP BY r.model_id, r.pid
),
s AS (SELECT s0.*, p.period_kind, p.period FROM s0 JOIN periods p ON p.pid = s0.pid),
-- the live versions; per version also every version an outcome judges (from jp, whatever the periods asked
-- for: a version whose judged predictions are all older than the 30 days still has its rows of the windows)
versions AS (
    SELECT lm.model_id FROM pgscore.live_models lm WHERE p_model_ids IS NULL OR lm.model_id = ANY (p_model_ids)
    UNION
    SELECT jp.model_id FROM jp WHERE p_by_version
    UNION
    -- and each version of a model with outcomes recorded that logged a prediction none of them judges (migration
    -- 0090): outcomes recorded under the wrong key left it out, and with it the unmatched_outcomes that say why;
    -- its rows have n 0 and status no_data (two index probes a version: outcomes by name, the log by model_id;
    -- OFFSET 0 keeps each a probe of the versions asked for: pulled up into semi-joins, the whole log was read and
    -- hashed by model_id first, 221 ms at 1,000,000 rows, in every alerts and refresh_monitoring through
    -- shadow_performance_stats even with no shadow set; migration 0103)
    SELECT m.model_id FROM pgscore.models m
     WHERE p_by_version AND (p_model_ids IS NULL OR m.model_id = ANY (p_model_ids))
       AND EXISTS (SELECT 1 FROM pgscore.outcomes o WHERE o.model_name = m.name OFFSET 0)
       AND EXISTS (SELECT 1 FROM pgscore.prediction_log l WHERE l.model_id = m.model_id OFFSET 0)
),
base AS (
    SELECT m.model_id, m.name, m.version, m.task, p.period_kind, p.period, p.sort_order,
           coalesce(s.n, 0) AS n, s.positives, s.auc, s.accuracy, s."precision", s.recall, s.brier, s.log_loss,
           s.mae, s.rmse,
           -- (0113) a deploy metric that is no number in float8's range (a hand edit: 1e400, "abc") is missing
           pgscore.jsonb_float8(m.metrics -> 'auc') AS deploy_auc,
           pgscore.jsonb_float8(m.metrics -> 'accuracy') AS deploy_accuracy,
           pgscore.jsonb_float8(m.metrics -> 'brier') AS deploy_brier,
           pgscore.jsonb_float8(m.metrics -> 'log_loss') AS deploy_log_loss,
           pgscore.jsonb_float8(m.metrics -> 'mae') AS deploy_mae, pgscore.jsonb_float8(m.metrics -> 'rmse') AS deploy_rmse
      FROM versions v
      JOIN pgscore.models m ON m.model_id = v.model_id
     CROSS JOIN periods p
      LEFT JOIN s ON s.model_id = m.model_id AND s.period_kind = p.period_kind AND s.period = p.period
),
-- once per model, not once per model and period (each reads every outcome: 35 times over, 2.9 s for 1,000);
-- per version: the model's outcomes that judge no prediction of the version
unmatched AS MATERIALIZED (
    SELECT om.model, NULL::bigint AS model_id, count(*) AS n
      FROM pgscore.outcome_matches om WHERE NOT om.matched AND NOT p_by_version GROUP BY om.model
    UNION ALL
    SELECT t.model_name, v.model_id, t.n - coalesce(k.n, 0)
      FROM (SELECT o.model_name, count(*) AS n FROM pgscore.outcomes o WHERE p_by_version GROUP BY o.model_name) t
      JOIN pgscore.models vm ON vm.name = t.model_name
      JOIN versions v ON v.model_id = vm.model_id
      LEFT JOIN (SELECT c.model_id, count(*) AS n FROM pgscore.outcome_version_matches c
                  WHERE p_by_version GROUP BY c.model_id) k ON k.model_id = v.model_id
)
SELECT b.model_id, b.name, b.version, b.task, b.period_kind, b.period, b.sort_order, b.n, b.positives, b.auc,
       b.accuracy, b."precision", b.recall, b.brier, b.log_loss, b.mae, b.rmse, b.deploy_auc, b.deploy_accuracy,
       b.deploy_brier, b.deploy_log_loss, b.deploy_mae, b.deploy_rmse, c.checks, c.status, c.firing, c.min_n,
       coalesce((SELECT u.n FROM unmatched u WHERE u.model = b.name
                    AND u.model_id IS NOT DISTINCT FROM CASE WHEN p_by_version THEN b.model_id END), 0)
           AS unmatched_outcomes
  FROM base b
 -- each metric's confidence (drift_thresholds; NULL: judged by the threshold alone) and noise floor at the window's
 -- outcomes, against the deploy metric (migration 0085), measured on the hold-out's rows (migration 0098: its
 -- own sampling noise counts too, as the baseline's does in the drift floors; a model registered without
 -- holdout_rows in its metrics is judged as before, its deploy metric as exact). AUC's floor is the window's
 -- and the hold-out's Hanley-McNeil errors combined (the hold-out's positives as recorded, else at the
 -- window's share of positives), since 0111 both at no more than the AUC Laplace's rule gives the hold-out's
 -- smaller class (ho.auc), the window's also at its own where it has 4 or fewer (noise_floor). Not capped at the
 -- deploy AUC (0107 did, in a subquery the planner pulled up, calling noise_floor twice a term): judge flags only
 -- above the floor and no drop exceeds the deploy AUC, so the cap changed no level
 CROSS JOIN (SELECT max(t.confidence) FILTER (WHERE t.metric = 'auc_drop') AS auc_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'accuracy_drop') AS accuracy_drop,
                    max(t.confidence) FILTER (WHERE t.metric = 'brier_rise') AS brier_rise,
                    max(t.confidence) FILTER (WHERE t.metric = 'rmse_rise') AS rmse_rise
               FROM pgscore.drift_thresholds t) cf
 -- (migration 0111) auc: the AUC both auc_drop terms are taken at, the deploy AUC but at most the Laplace AUC of the
 -- hold-out's smaller class, (m + 1) / (m + 2): the deploy AUC is as sure as the hold-out it was measured on (0107
 -- took each term's own smaller class, and a window of 5-98 positives at deploy AUCs of 0.95-0.99 got a floor far
 -- too high); without a hold-out the deploy AUC, as exact
 CROSS JOIN LATERAL (SELECT p.n_holdout, p.error_kurtosis, p.positives,
                            -- (least() passes over a NULL deploy AUC: a model without one has no floor)
                            -- (0113: a deploy AUC below 1e-150 at 0, which noise_floor's AUC squared underflowed)
                            CASE WHEN b.deploy_auc IS NOT NULL
                                 THEN least(CASE WHEN b.deploy_auc < 1e-150 THEN 0 ELSE b.deploy_auc END,
                                            (least(p.positives, p.n_holdout - p.positives) + 1.0)
                                            / (least(p.positives, p.n_holdout - p.positives) + 2.0)) END AS auc
                       FROM (SELECT h.n_holdout,
                            -- (least() passes over a NULL)
                            CASE WHEN h.n_holdout IS NOT NULL AND h.error_kurtosis IS NOT NULL
                                 THEN least(h.error_kurtosis, h.n_holdout) END AS error_kurtosis,
                            CASE WHEN b.n > 0 AND b.positives > 0 AND b.positives < b.n AND h.n_holdout > 1
                                 THEN greatest(1, least(h.n_holdout - 1,
                                          coalesce(h.positives, round(h.n_holdout::numeric * b.positives / b.n)::bigint)))
                            END AS positives
                       -- (a count that is not a whole number in bigint's range, 1e30 by a hand edit, is none:
                       -- its cast failed the views for every model; rows without one are judged as before 0098,
                       -- positives without one at the window's share)
                       FROM (SELECT CASE WHEN jsonb_typeof(m.metrics -> 'holdout_rows') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'holdout_rows')::numeric BETWEEN 1 AND 9.2e18
                                                        AND (m.metrics -> 'holdout_rows')::numeric % 1 = 0
                                                   THEN (m.metrics -> 'holdout_rows')::numeric::bigint END
                                    END AS n_holdout,
                                    CASE WHEN jsonb_typeof(m.metrics -> 'holdout_positives') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'holdout_positives')::numeric BETWEEN 0 AND 9.2e18
                                                        AND (m.metrics -> 'holdout_positives')::numeric % 1 = 0
                                                   THEN (m.metrics -> 'holdout_positives')::numeric::bigint END
                                    END AS positives,
                                    -- (0108) a kurtosis is at least 1 (mean(e^4) >= mean(e^2)^2): below, none
                                    CASE WHEN jsonb_typeof(m.metrics -> 'error_kurtosis') = 'number'
                                         THEN CASE WHEN (m.metrics -> 'error_kurtosis')::numeric BETWEEN 1 AND 9.2e18
                                                   THEN (m.metrics -> 'error_kurtosis')::numeric::float8 END
                                    END AS error_kurtosis
                               FROM pgscore.models m WHERE m.model_id = b.model_id) h) p) ho
 -- (migration 0108) rmse_rise's floor for heavy-tailed errors: the F of the MSE ratio at effective degrees of
 -- freedom n 2 / (kappa - 1) and n_base 2 / (kappa - 1) (Box and Andersen's: var(ln MSE) is (kappa - 1) / n, 2 / n
 -- at the normal's kappa of 3), kappa the errors' kurtosis about 0 of the hold-out (error_kurtosis, stored at
 -- deploy, at most its rows), at least 3: never below 0106's floor. Nothing of the window's own shape: pooled with
 -- the window's kurtosis (Layard's), the few huge errors that raise a window's RMSE raised its kurtosis as much
 -- and the floor with it, and a regressor that began to make them was judged ok (1% of 1,000 rows at 30 times the
 -- error: RMSE +212%, floor 797). scripts/rmse_floor_noise.py: no-drift windows of Student t at 3-5 df, Laplace
 -- and lognormal errors crossed 0.999's floor 1.8-64 times as often as it says at this kappa, 20-200 at 0106's.
 -- A model without error_kurtosis (deployed before 0108, or without a hold-out) keeps 0106's floor; the degrees
 -- of freedom are rounded down (a higher floor), at least 1
 CROSS JOIN LATERAL (SELECT CASE WHEN ho.error_kurtosis IS NOT NULL
                                 THEN 2 / (greatest(3, ho.error_kurtosis) - 1) END AS dof) tl
 -- (migration 0113) the rates pooled with the hold-out's rows as noise_floor takes them, within 0..1 (a NaN at 1),
 -- and below 1e-150 at 0: a hand-edited deploy accuracy or Brier of 1e300 times a hold-out of 9e18 rows
 -- overflowed, one of 1e-320 over them underflowed, and so did noise_floor's variance of a Brier below ~1e-300:
 -- 22003, every model's views failed (values within 0..1, the floors as before)
 CROSS JOIN LATERAL (SELECT CASE WHEN b.deploy_accuracy > 1 THEN 1 WHEN b.deploy_accuracy < 1e-150 THEN 0
                                 ELSE b.deploy_accuracy END AS deploy_accuracy,
                            CASE WHEN b.deploy_brier > 1 THEN 1 WHEN b.deploy_brier < 1e-150 THEN 0
                                 ELSE b.deploy_brier END AS deploy_brier,
                            CASE WHEN b.brier = 'NaN' THEN b.brier WHEN b.brier > 1 THEN 1 WHEN b.brier < 1e-150 THEN 0
                                 ELSE b.brier END AS brier) rt
 CROSS JOIN LATERAL (SELECT CASE WHEN b.n > 0 THEN sqrt(pgscore.noise_floor('auc_drop', b.n, NULL, NULL, cf.auc_drop, ho.auc, b.positives) ^ 2
                                                        + coalesce(CASE WHEN ho.positives IS NOT NULL THEN pgscore.noise_floor('auc_drop', ho.n_holdout, NULL, NULL, cf.auc_drop, ho.auc, ho.positives) END ^ 2, 0)) END AS auc_drop,
                            -- (migration 0101) with a hold-out, at the accuracy of the window and hold-out pooled:
                            -- at the hold-out's alone, one of 100 rows with few errors put the floor low, and
                            -- no-drift windows crossed it 9-34 times as often as the confidence says at 0.95
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('accuracy_drop', b.n, ho.n_holdout, NULL, cf.accuracy_drop,
                                CASE WHEN ho.n_holdout IS NOT NULL AND b.accuracy IS NOT NULL
                                     THEN (rt.deploy_accuracy * ho.n_holdout + b.accuracy * b.n) / (ho.n_holdout + b.n)
                                     ELSE b.deploy_accuracy END) END AS accuracy_drop,
                            -- (0101) Brier's likewise: at a hold-out of 100 rows and 5% positives, 0.0086-0.0116 of
                            -- no-drift windows were over the floor at the hold-out's Brier score, 0-0.001 pooled
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('brier_rise', b.n, ho.n_holdout, NULL, cf.brier_rise,
                                CASE WHEN ho.n_holdout IS NOT NULL AND b.brier IS NOT NULL
                                     THEN (rt.deploy_brier * ho.n_holdout + rt.brier * b.n) / (ho.n_holdout + b.n)
                                     ELSE rt.deploy_brier END) END AS brier_rise,
                            CASE WHEN b.n > 0 THEN pgscore.noise_floor('rmse_rise',
                                CASE WHEN tl.dof < 1 THEN greatest(1, floor(b.n * tl.dof))::bigint ELSE b.n END,
                                CASE WHEN tl.dof < 1 THEN greatest(1, floor(ho.n_holdout * tl.dof))::bigint ELSE ho.n_holdout END,
                                NULL, cf.rmse_rise, b.deploy_rmse) END AS rmse_rise) fl
 CROSS JOIN LATERAL pgscore.judge(
        CASE b.task WHEN 'binary' THEN ARRAY['auc_drop', 'accuracy_drop', 'brier_rise']
                    WHEN 'multiclass' THEN ARRAY['accuracy_drop'] ELSE ARRAY['rmse_rise'] END,
        CASE b.task WHEN 'binary' THEN ARRAY[b.deploy_auc - b.auc, b.deploy_accuracy - b.accuracy, b.brier - b.deploy_brier]
                    WHEN 'multiclass' THEN ARRAY[b.deploy_accuracy - b.accuracy]
                    -- (a hold-out RMSE of 0, a tree fitted to an integer target: any error in service is a rise)
                    -- (no hold-out RMSE at all, a regressor deployed without a target: nothing to compare)
                    -- (0112) a hand-edited deploy RMSE taken within 1e-150..1e150 in magnitude (NaN and infinities as
                    -- they are): the window's, at most 1e140, over one of 1e-300 overflowed (22003, every model's
                    -- views failed), and a nonzero one of 1e-140 over 1e300 underflows
                    ELSE ARRAY[CASE WHEN b.deploy_rmse <> 0
                                    THEN b.rmse / CASE WHEN b.deploy_rmse = 'NaN' OR abs(b.deploy_rmse) = 'Infinity' THEN b.deploy_rmse
                                                       WHEN abs(b.deploy_rmse) < 1e-150 THEN sign(b.deploy_rmse) * 1e-150
                                                       WHEN abs(b.deploy_rmse) > 1e150 THEN sign(b.deploy_rmse) * 1e150
                                                       ELSE b.deploy_rmse END - 1
                                    WHEN b.deploy_rmse = 0 THEN CASE WHEN b.rmse > 0 THEN 1e300
                                                                     WHEN b.rmse = 0 THEN 0 END END] END,
        array_fill(b.n, ARRAY[CASE b.task WHEN 'binary' THEN 3 ELSE 1 END]),
        CASE b.task WHEN 'binary' THEN ARRAY[fl.auc_drop, fl.accuracy_drop, fl.brier_rise]
                    WHEN 'multiclass' THEN ARRAY[fl.accuracy_drop] ELSE ARRAY[fl.rmse_rise] END) c
$fn$;
COMMENT ON FUNCTION pgscore.performance_stats_of(boolean, bigint[], text) IS 'performance_stats(p_by_version) for the model versions p_model_ids alone (NULL: every one it gives) in the periods of kind p_period_kind (window or day; NULL: both; since 0125 outcome_window, by name alone: each window holding the judged predictions whose outcome was recorded within it, whenever made; both_windows: window and outcome_window in one pass, as alerts reads them): their rows as performance_stats gives them, without ranking the predictions of other versions or periods; the views of realised performance read it for the periods they report (realised_performance and alerts the windows, realised_performance_by_outcome_time the outcome windows, alerts both_windows, performance_by_day the days), shadow_performance_stats for the shadow versions';

-- (migration 0125) realised_performance by outcome time: per live model and window, the judged predictions whose
-- outcome was recorded within the window, whenever they were made (performance_stats_of's outcome windows), in
-- realised_performance's columns, judged by the same drift_thresholds; their warn and alert in alerts (subject
-- 'outcomes by recorded time'). Where outcomes arrive days or weeks after the prediction, a short window by
-- prediction time holds none yet; this one holds those that arrived
CREATE VIEW pgscore.realised_performance_by_outcome_time AS
SELECT p.name AS model, p.version, p.task, p.period AS window_name, p.n, p.positives, p.auc, p.accuracy, p.precision,
       p.recall, p.brier, p.log_loss, p.mae, p.rmse, p.deploy_auc, p.deploy_accuracy, p.deploy_brier,
       p.deploy_log_loss, p.deploy_mae, p.deploy_rmse, p.status, p.firing,
       CASE WHEN p.n = 0 THEN 'no outcome recorded in this window judges a prediction of this version'
            WHEN p.status = 'insufficient_data' THEN format('%s outcomes, fewer than the %s needed', p.n, p.min_n)
            WHEN p.status = 'not_applicable' AND coalesce(p.deploy_auc, p.deploy_accuracy, p.deploy_rmse) IS NULL
                THEN 'no hold-out metrics at deploy to compare with (deployed without a target)'
            WHEN p.status = 'not_applicable' AND p.task = 'multiclass'
                THEN 'the predictions matched carry no predicted class (logged before migration 0017 by score, predict_proba or in batch): accuracy compares predict''s label with the outcome'
            WHEN p.status = 'not_applicable' THEN 'no realised metric to compare with the deploy metrics'
            WHEN p.task = 'multiclass'
                THEN 'a multiclass model: auc, brier and log_loss are NULL, as the audit log holds the top class''s probability alone, not every class''s; accuracy (the logged predicted class against the outcome) is what it is judged on. deploy_log_loss is the hold-out''s; deploy_auc and deploy_brier are NULL (its one-vs-rest AUC is its metrics'' auc_ovr, pgscore show)'
       END AS note,
       p.unmatched_outcomes,
       pgscore.jsonb_float8(m.metrics -> 'precision') AS deploy_precision,
       pgscore.jsonb_float8(m.metrics -> 'recall') AS deploy_recall
  FROM pgscore.performance_stats_of(false, NULL, 'outcome_window') p
  JOIN pgscore.models m ON m.model_id = p.model_id
 WHERE p.period_kind = 'outcome_window'
 ORDER BY model, p.sort_order;
COMMENT ON VIEW pgscore.realised_performance_by_outcome_time IS 'Per live model and window (by outcome time): metrics realised on the judged predictions whose outcome was recorded (outcomes.recorded_at) within the window, whenever they were made, next to the hold-out metrics captured at deploy; realised_performance''s columns and checks. Read it where outcomes arrive later than the shortest window';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.n IS 'How many judged predictions (made at any time) have their outcome recorded in the window';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.status IS 'The worst level among the metrics: alert, warn, ok; or insufficient_data, no_data, not_applicable';
-- (the other columns' comments, as sql/privileges/column_comments.sql gives them at install)
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.model IS 'Model name';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.version IS 'Model version';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.task IS 'binary, multiclass or regression';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.window_name IS 'The window (pgscore.drift_windows)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.positives IS 'How many outcomes are the positive class (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.auc IS 'Area under the ROC curve on the outcomes (binary classifiers; ties count half)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.accuracy IS 'Share of predictions whose label (at the decision threshold, for a binary classifier) equals the outcome';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time."precision" IS 'Of the predictions above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it), the share whose outcome is positive (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.recall IS 'Of the positive outcomes, the share scored above the decision threshold, the metrics'' threshold (0.5 unless the model''s predict thresholds the score itself; a score equal to it is the negative class, as predict gives it) (binary classifiers; NULL for others)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.brier IS 'Mean squared difference between the score and the 0/1 outcome (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.log_loss IS 'Mean negative log-likelihood of the outcome under the score (binary classifiers; scores clipped to [eps, 1-eps] as scikit-learn does; NULL for a multiclass model: the log holds the top class''s probability only, not the outcome''s)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.mae IS 'Mean absolute error against the outcomes (regressors)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.rmse IS 'Root mean squared error against the outcomes (regressors)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_auc IS 'Hold-out AUC captured at deploy (binary classifiers; NULL for others: a multiclass model''s one-vs-rest AUC is its metrics'' auc_ovr, with no realised counterpart)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_accuracy IS 'Hold-out accuracy captured at deploy (classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_brier IS 'Hold-out Brier score captured at deploy (binary classifiers; NULL for a multiclass model and a regressor)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_log_loss IS 'Hold-out log loss captured at deploy (classifiers): a multiclass model''s, over every class''s probability, has no realised counterpart (log_loss is NULL for it: the log holds the top class''s probability only)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_mae IS 'Hold-out mean absolute error captured at deploy (regressors)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_rmse IS 'Hold-out root mean squared error captured at deploy (regressors)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.firing IS 'The metrics at warn or alert level, comma-separated';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.note IS 'What is missing or unusual, when something is';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.unmatched_outcomes IS 'Outcomes of this model that judge no prediction (none logged for the entity before the outcome)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_precision IS 'Hold-out precision captured at deploy, at the decision threshold (binary classifiers)';
COMMENT ON COLUMN pgscore.realised_performance_by_outcome_time.deploy_recall IS 'Hold-out recall captured at deploy, at the decision threshold (binary classifiers)';
GRANT SELECT ON pgscore.realised_performance_by_outcome_time TO pgscore_reader, pgscore_admin;

-- (the live versions' drift in the windows alone, as the other branches read theirs: through drift_checks,
-- drift_stats() judged every one of the 30 days as well, with their noise floors, for the filter to drop; 0103)
CREATE OR REPLACE VIEW pgscore.firing AS
SELECT s.name AS model, s.version, s.kind AS what, s.feature AS subject, s.period AS window_name, s.sort_order,
       c.metric, c.value, CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END AS threshold, c.level,
       false AS shadow
  FROM pgscore.window_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' realised performance in the windows by prediction time (subject 'outcomes') and, since
-- migration 0125, by outcome time (subject 'outcomes by recorded time': the judged predictions whose outcome was
-- recorded in the window), in one call: judged_predictions, its sort and the unmatched outcomes read once (two
-- calls, one a kind, cost alerts 2.3 times what 0122's did; docs/performance.md, "By outcome time")
SELECT r.name, r.version, 'performance',
       CASE r.period_kind WHEN 'window' THEN 'outcomes' ELSE 'outcomes by recorded time' END, r.period,
       r.sort_order, c.metric, (c.value)::float8, (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8,
       c.level, false
  FROM pgscore.performance_stats_of(false, NULL, 'both_windows') r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE r.period_kind IN ('window', 'outcome_window') AND c.level IN ('warn', 'alert')
UNION ALL
-- each shadow version of a model with a live version: its drift against its own baseline, and its realised
-- performance judged by its own predictions (shadow_performance_stats: the shadows' alone, in the windows)
SELECT s.name, s.version, s.kind, s.feature, s.period, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, true
  FROM pgscore.shadow_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
SELECT r.name, r.version, 'performance', 'outcomes', r.period, r.sort_order, c.metric, (c.value)::float8,
       (CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END)::float8, c.level, true
  FROM pgscore.shadow_performance_stats() r
 CROSS JOIN LATERAL jsonb_to_recordset(r.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert')
UNION ALL
-- the live versions' predicted-class mix (migration 0122): what 'class', subject 'mix'
SELECT s.name, s.version, 'class', 'mix', s.window_name, s.sort_order, c.metric, c.value,
       CASE c.level WHEN 'alert' THEN c.alert ELSE c.warn END, c.level, false
  FROM pgscore.class_drift_stats() s
 CROSS JOIN LATERAL jsonb_to_recordset(s.checks) c(metric text, value float8, warn float8, alert float8, level text)
 WHERE c.level IN ('warn', 'alert');
COMMENT ON VIEW pgscore.firing IS 'Internal: every condition at warn or alert level now, of each live version and each shadow version';
COMMENT ON COLUMN pgscore.firing.shadow IS 'true for a condition of a shadow version (pgscore.shadow_versions), false for the live version''s';

COMMENT ON VIEW pgscore.alerts IS 'Every firing condition: drift of a feature or the score, of a classifier''s predicted-class mix (what class, subject mix, metric class_mix: pgscore.class_drift, since 0122; the live version''s alone), or realised performance (subject outcomes: the window''s predictions judged so far; since 0125 subject outcomes by recorded time: the predictions whose outcome was recorded in the window, realised_performance_by_outcome_time), at warn or alert level in some window, of each model''s live version and of each shadow version scored next to it (shadow true)';
