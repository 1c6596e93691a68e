/*
 * A shadow version against the live version it was scored next to (migration 0138; session 62's trial T12 found
 * the guide's hand-written join over-counting): each shadow prediction with the live prediction of its own
 * statement, once. A statement's live and shadow rows share the entity, logged_at (the transaction's start) and
 * the cause's statement_at (its statement's), and the shadow row's cause names the live version (shadow_of): the
 * rescoring trigger and score_table log both so; nothing else scores in shadow (the query path, retry_failed,
 * refresh_windows and rescore_profiles do not). Joined on logged_at alone, a transaction that rescores an entity
 * in three statements paired each shadow row with three live rows (9 pairs). Rows that share all of that (the
 * statements of one function call share statement_at) are told apart by the command that wrote them (cmin: the
 * live row is written, then the shadow's, in each rescoring): a shadow row pairs with the live row written last
 * before it. Ranking them instead (the k-th shadow row with the k-th live row, 0138) paired a shadow that did not
 * score in the first of them (it failed there, or was set in between) with the statement before its own; and the
 * physical order (ctid) is not the order written where inserts fill space freed by a VACUUM (rolled-back rows).
 * Rows restored by COPY share one command: their physical order, the dump's, decides then. Each shadow row finds
 * its live row by the log's (entity_key, logged_at) index: ask for one model's, or a time range's, and only those
 * are read.
 */
CREATE VIEW pgscore.shadow_pairs AS
SELECT s.logged_at, ms.name AS model, s.entity_key, s.statement_at,
       ml.version AS live_version, l.score AS live_score, l.label AS live_label, l.source AS live_source,
       ms.version AS shadow_version, s.score AS shadow_score, s.label AS shadow_label,
       abs(s.score - l.score) AS abs_diff,
       CASE WHEN ms.task = 'binary' AND ml.task = 'binary'
            THEN (l.score > coalesce(pgscore.jsonb_float8(ml.metrics -> 'threshold'), 0.5))
                 <> (s.score > coalesce(pgscore.jsonb_float8(ms.metrics -> 'threshold'), 0.5))
            WHEN ms.task = 'multiclass' AND ml.task = 'multiclass' THEN l.label <> s.label END AS decision_changed,
       l.model_id AS live_model_id, s.model_id AS shadow_model_id
  FROM (SELECT p.logged_at, p.model_id, p.entity_key, p.score, p.label,
               (jsonb_path_query_first(p.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz AS statement_at,
               CASE WHEN p.cause ->> 'shadow_of' ~ '^[0-9]{1,18}$' THEN (p.cause ->> 'shadow_of')::bigint END AS shadow_of,
               p.cmin::text::bigint AS command, p.ctid
          FROM pgscore.prediction_log p
         WHERE p.source = 'shadow' AND p.entity_key IS NOT NULL) s
  CROSS JOIN LATERAL (
        SELECT l.model_id, l.score, l.label, l.source
          FROM pgscore.prediction_log l
         WHERE l.entity_key = s.entity_key AND l.logged_at = s.logged_at AND l.model_id = s.shadow_of
           AND l.source <> 'shadow'
           AND (jsonb_path_query_first(l.cause, '$.statement_at.datetime()', '{}', true) #>> '{}')::timestamptz
               IS NOT DISTINCT FROM s.statement_at
           AND (l.cmin::text::bigint < s.command OR (l.cmin::text::bigint = s.command AND l.ctid < s.ctid))
         ORDER BY l.cmin::text::bigint DESC, l.ctid DESC
         LIMIT 1) l
  JOIN pgscore.models ms ON ms.model_id = s.model_id
  JOIN pgscore.models ml ON ml.model_id = l.model_id;
COMMENT ON VIEW pgscore.shadow_pairs IS 'Each shadow prediction with the live prediction of its own statement, each pair once (the same entity, transaction and statement time; the live version its cause names): what a shadow would have decided against what was served (migration 0138)';
COMMENT ON COLUMN pgscore.shadow_pairs.logged_at IS 'The start of the transaction that scored both';
COMMENT ON COLUMN pgscore.shadow_pairs.model IS 'Model name';
COMMENT ON COLUMN pgscore.shadow_pairs.entity_key IS 'The profile or row scored';
COMMENT ON COLUMN pgscore.shadow_pairs.statement_at IS 'The start of the statement that scored both (the cause''s statement_at)';
COMMENT ON COLUMN pgscore.shadow_pairs.live_version IS 'The version live when it was scored, whose score was served';
COMMENT ON COLUMN pgscore.shadow_pairs.live_score IS 'The live version''s score';
COMMENT ON COLUMN pgscore.shadow_pairs.live_label IS 'The live version''s class, where it was logged';
COMMENT ON COLUMN pgscore.shadow_pairs.live_source IS 'How the live row was scored: trigger (rescoring on INSERT) or batch (score_table)';
COMMENT ON COLUMN pgscore.shadow_pairs.shadow_version IS 'The version scored in shadow';
COMMENT ON COLUMN pgscore.shadow_pairs.shadow_score IS 'The shadow version''s score';
COMMENT ON COLUMN pgscore.shadow_pairs.shadow_label IS 'The shadow version''s class, where it was logged';
COMMENT ON COLUMN pgscore.shadow_pairs.abs_diff IS 'abs(shadow_score - live_score)';
COMMENT ON COLUMN pgscore.shadow_pairs.decision_changed IS 'Whether the shadow would have decided otherwise: for binary classifiers, each score against its own version''s decision threshold (metrics->>''threshold'', 0.5 where none is recorded; a score equal to it is negative); for multiclass, the classes differ; NULL for regressors';

COMMENT ON COLUMN pgscore.shadow_pairs.live_model_id IS 'The live version''s model version row (the shadow row''s cause->>''shadow_of'')';
COMMENT ON COLUMN pgscore.shadow_pairs.shadow_model_id IS 'The shadow version''s model version row';
/*
 * Per model, shadow version and live version: how far the pairs of shadow_pairs agree, and how many statements
 * the shadow failed in (pgscore.shadow_failures, its current count: set_shadow and clear_shadow empty it), with
 * whether the version is a shadow now and since when. Each version's pairs are summed from its own shadow rows
 * (the log's (model_id, logged_at) index): asked for some versions (WHERE shadow_model_id = ANY (...), as
 * `pgscore shadows` asks), it reads their rows alone (migration 0144: a FULL JOIN of the sums of every pair of
 * the log with shadow_versions kept the filter from reaching the log, which cost ~0.15 ms a shadow row ever
 * logged, of any model, for one shadow).
 */
CREATE VIEW pgscore.shadow_comparison AS
SELECT m.name AS model, m.version AS shadow_version, p.live_version,
       sv.model_id IS NOT NULL AS in_shadow, sv.since, coalesce(p.pairs, 0) AS pairs, p.first_at, p.last_at,
       coalesce(p.labelled_pairs, 0) AS labelled_pairs, p.label_agreement, coalesce(p.decisions_compared, 0)
       AS decisions_compared, coalesce(p.decisions_changed, 0) AS decisions_changed,
       p.decisions_changed::float8 / nullif(p.decisions_compared, 0) AS decisions_changed_share,
       p.mean_abs_diff, p.max_abs_diff,
       coalesce(f.statements, 0) AS failed_statements, coalesce(f.profiles, 0) AS failed_profiles,
       m.model_id AS shadow_model_id, p.live_model_id
  FROM pgscore.models m
  LEFT JOIN pgscore.shadow_versions sv ON sv.model_id = m.model_id
  LEFT JOIN LATERAL (
        SELECT sp.live_version, sp.live_model_id,
               count(*) AS pairs, min(sp.logged_at) AS first_at, max(sp.logged_at) AS last_at,
               count(*) FILTER (WHERE sp.live_label IS NOT NULL AND sp.shadow_label IS NOT NULL) AS labelled_pairs,
               avg((sp.live_label = sp.shadow_label)::integer::float8) AS label_agreement,
               count(sp.decision_changed) AS decisions_compared,
               count(*) FILTER (WHERE sp.decision_changed) AS decisions_changed,
               avg(sp.abs_diff) AS mean_abs_diff, max(sp.abs_diff) AS max_abs_diff
          FROM pgscore.shadow_pairs sp
         WHERE sp.shadow_model_id = m.model_id
         GROUP BY sp.live_version, sp.live_model_id) p ON true
  LEFT JOIN (SELECT sf.model_id, sum(sf.statements) AS statements, sum(sf.profiles) AS profiles
               FROM pgscore.shadow_failures sf GROUP BY sf.model_id) f ON f.model_id = m.model_id
 -- (a version with pairs, and a shadow that has scored nothing yet, or failed in every statement: pairs 0)
 WHERE p.pairs IS NOT NULL OR sv.model_id IS NOT NULL;
COMMENT ON VIEW pgscore.shadow_comparison IS 'Per model, shadow version and the live version it was scored next to: the pairs of shadow_pairs, how far they agree, and the statements the shadow failed in (migration 0138)';
COMMENT ON COLUMN pgscore.shadow_comparison.live_version IS 'The live version the shadow was scored next to (NULL: no pair yet)';
COMMENT ON COLUMN pgscore.shadow_comparison.in_shadow IS 'Whether the version is scored in shadow now (pgscore.shadow_versions)';
COMMENT ON COLUMN pgscore.shadow_comparison.since IS 'When set_shadow marked it, while it is a shadow';
COMMENT ON COLUMN pgscore.shadow_comparison.pairs IS 'Shadow predictions paired with their statement''s live prediction';
COMMENT ON COLUMN pgscore.shadow_comparison.labelled_pairs IS 'Pairs both of whose rows logged a class';
COMMENT ON COLUMN pgscore.shadow_comparison.label_agreement IS 'Of the labelled pairs, the share whose classes are the same';
COMMENT ON COLUMN pgscore.shadow_comparison.decisions_compared IS 'Pairs whose decisions compare (classifiers: shadow_pairs.decision_changed not NULL)';
COMMENT ON COLUMN pgscore.shadow_comparison.decisions_changed IS 'Pairs the shadow would have decided otherwise (each version at its own threshold; multiclass: another class)';
COMMENT ON COLUMN pgscore.shadow_comparison.decisions_changed_share IS 'decisions_changed / decisions_compared';
COMMENT ON COLUMN pgscore.shadow_comparison.mean_abs_diff IS 'Mean abs(shadow_score - live_score)';
COMMENT ON COLUMN pgscore.shadow_comparison.max_abs_diff IS 'Largest abs(shadow_score - live_score)';
COMMENT ON COLUMN pgscore.shadow_comparison.failed_statements IS 'Statements (rescoring) and chunks (score_table) the shadow failed in, as pgscore.shadow_failures counts them since it was set';
COMMENT ON COLUMN pgscore.shadow_comparison.failed_profiles IS 'Profiles or rows the shadow did not score in them';

COMMENT ON COLUMN pgscore.shadow_comparison.model IS 'Model name';
COMMENT ON COLUMN pgscore.shadow_comparison.shadow_version IS 'The version scored in shadow';
COMMENT ON COLUMN pgscore.shadow_comparison.first_at IS 'When the first pair was logged';
COMMENT ON COLUMN pgscore.shadow_comparison.last_at IS 'When the last pair was logged';
COMMENT ON COLUMN pgscore.shadow_comparison.shadow_model_id IS 'The shadow version''s model version row';
COMMENT ON COLUMN pgscore.shadow_comparison.live_model_id IS 'The live version''s model version row (NULL: no pair yet)';
/*
 * realised_performance_by_version judges each version on its own newest prediction of the entity at or before the
 * outcome: a shadow that failed, or was not run (retry_failed, refresh_windows and rescore_profiles score the live
 * version alone), is judged on a prediction older than the live version's, made on older features. Per model and
 * version other than the live one (a shadow, or one live before): the outcomes that judge a prediction of both,
 * how many judge one of this version older than the live version's (and by how much), and the metrics of both
 * on the outcomes judging predictions both logged in the same transaction alone, a comparison on the same
 * features: of a transaction that rescored the entity in several statements, each version is judged on its row of
 * the last statement it scored in (outcome_version_matches: statement_at, then the command; migration 0144, before
 * which it was any of the transaction's rows), the same statement unless the shadow failed in the last.
 */
CREATE VIEW pgscore.realised_against_live AS
SELECT b.model, b.version, b.live_version, b.task, count(*) AS outcomes,
       count(*) FILTER (WHERE b.same) AS same_transaction,
       count(*) FILTER (WHERE b.predicted_at < b.live_predicted_at) AS older_than_live,
       max(b.live_predicted_at - b.predicted_at) FILTER (WHERE b.predicted_at < b.live_predicted_at) AS max_behind_live,
       avg(b.live_predicted_at - b.predicted_at) FILTER (WHERE b.predicted_at < b.live_predicted_at) AS mean_behind_live,
       count(*) FILTER (WHERE b.predicted_at > b.live_predicted_at) AS newer_than_live,
       avg(CASE WHEN b.task = 'binary' THEN ((b.score > b.threshold) = (b.y = 1))::integer::float8
                WHEN b.task = 'multiclass' THEN (b.label = b.outcome #>> '{}')::integer::float8 END)
           FILTER (WHERE b.same) AS accuracy,
       avg(CASE WHEN b.task = 'binary' THEN ((b.live_score > b.live_threshold) = (b.y = 1))::integer::float8
                WHEN b.task = 'multiclass' THEN (b.live_label = b.outcome #>> '{}')::integer::float8 END)
           FILTER (WHERE b.same) AS live_accuracy,
       avg((b.score - b.y) ^ 2) FILTER (WHERE b.same) AS brier,
       avg((b.live_score - b.y) ^ 2) FILTER (WHERE b.same) AS live_brier,
       -- (each absolute error at most 1e140, as the realised views take it: avg() of absurd ones overflowed)
       -- (least() ignores a NULL: a classifier's, which has no y_value, would read 1e140)
       avg(CASE WHEN b.y_value IS NOT NULL THEN least(abs(b.score - b.y_value), 1e140) END) FILTER (WHERE b.same)
           AS mae,
       avg(CASE WHEN b.y_value IS NOT NULL THEN least(abs(b.live_score - b.y_value), 1e140) END) FILTER (WHERE b.same)
           AS live_mae,
       b.model_id, b.live_model_id
  FROM (SELECT m.name AS model, m.version, lm.version AS live_version, m.task, m.model_id, lm.model_id AS live_model_id,
               v.predicted_at, lv.predicted_at AS live_predicted_at, v.predicted_at = lv.predicted_at AS same,
               v.score, v.label, lv.score AS live_score, lv.label AS live_label, o.outcome,
               CASE WHEN m.task = 'binary' THEN (o.outcome = m.classes -> 1)::integer END AS y,
               CASE WHEN m.task = 'regression' THEN pgscore.jsonb_float8(o.outcome) END AS y_value,
               coalesce(pgscore.jsonb_float8(m.metrics -> 'threshold'), 0.5) AS threshold,
               coalesce(pgscore.jsonb_float8(lm.metrics -> 'threshold'), 0.5) AS live_threshold
          FROM pgscore.outcome_version_matches v
          JOIN pgscore.models m ON m.model_id = v.model_id
          JOIN pgscore.live_models lm ON lm.name = m.name AND lm.model_id <> m.model_id AND lm.task = m.task
          JOIN pgscore.outcome_version_matches lv ON lv.outcome_id = v.outcome_id AND lv.model_id = lm.model_id
          JOIN pgscore.outcomes o ON o.outcome_id = v.outcome_id) b
 GROUP BY b.model, b.version, b.live_version, b.task, b.model_id, b.live_model_id;
COMMENT ON VIEW pgscore.realised_against_live IS 'Per model version other than the live one that outcomes judge with the live one: how many of its judged predictions are older than the live version''s for the same outcome (judged on older features), and both versions'' metrics on the outcomes judging predictions both logged in the same transaction (migration 0138)';
COMMENT ON COLUMN pgscore.realised_against_live.outcomes IS 'Outcomes that judge a prediction of this version and one of the live version (each version''s newest of the entity at or before the outcome)';
COMMENT ON COLUMN pgscore.realised_against_live.same_transaction IS 'Of them, those whose two judged predictions were logged in the same transaction (the same logged_at): the ones the metrics of this view judge. Each version is judged on its prediction of the transaction''s last statement it scored in (statement_at, then the command that wrote it; migration 0144): the same statement, on the same features, unless the shadow failed in the last one';
COMMENT ON COLUMN pgscore.realised_against_live.older_than_live IS 'Of them, those whose prediction of this version was logged before the live version''s: a shadow that failed or was not run (retry, refresh_windows, rescore), judged on older features';
COMMENT ON COLUMN pgscore.realised_against_live.max_behind_live IS 'How much older than the live version''s its oldest such prediction is';
COMMENT ON COLUMN pgscore.realised_against_live.mean_behind_live IS 'How much older than the live version''s such predictions are, on average';
COMMENT ON COLUMN pgscore.realised_against_live.newer_than_live IS 'Of them, those whose prediction of this version was logged after the live version''s (the live one failed, or this one was live then)';
COMMENT ON COLUMN pgscore.realised_against_live.accuracy IS 'This version''s accuracy on the same_transaction outcomes (binary: at its threshold; multiclass: its class)';
COMMENT ON COLUMN pgscore.realised_against_live.live_accuracy IS 'The live version''s accuracy on the same outcomes';
COMMENT ON COLUMN pgscore.realised_against_live.brier IS 'This version''s Brier score on the same_transaction outcomes (binary)';
COMMENT ON COLUMN pgscore.realised_against_live.live_brier IS 'The live version''s Brier score on the same outcomes (binary)';
COMMENT ON COLUMN pgscore.realised_against_live.mae IS 'This version''s mean absolute error on the same_transaction outcomes (regression)';
COMMENT ON COLUMN pgscore.realised_against_live.live_mae IS 'The live version''s mean absolute error on the same outcomes (regression)';
COMMENT ON COLUMN pgscore.realised_against_live.model IS 'Model name';
COMMENT ON COLUMN pgscore.realised_against_live.version IS 'A version other than the live one (a shadow, or one live before)';
COMMENT ON COLUMN pgscore.realised_against_live.live_version IS 'The version live now';
COMMENT ON COLUMN pgscore.realised_against_live.task IS 'binary, multiclass or regression (both versions'')';
COMMENT ON COLUMN pgscore.realised_against_live.model_id IS 'This version''s model version row';
COMMENT ON COLUMN pgscore.realised_against_live.live_model_id IS 'The live version''s model version row';
