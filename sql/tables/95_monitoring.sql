/*
 * Monitoring: the windows the drift and performance views report on, the
 * thresholds that turn a metric into ok / warn / alert, 5-minute rollups of the
 * prediction log binned on each model's baseline (so a window of days reads
 * a few thousand rollup rows instead of millions of log rows), and the first
 * time each firing condition was seen.
 */
CREATE TABLE pgscore.drift_windows (
    window_name text PRIMARY KEY,
    length      interval,
    sort_order  integer NOT NULL DEFAULT 0,
    -- at least one 5-minute bucket: '30', a bare number meant as days, is 30 seconds to PostgreSQL; and (0155) no
    -- part negative: '-1 mon 31 days' compares as 1 day (a month is 30 days to the comparison), and the window
    -- reaches back now() minus it, none at all in a month of 31 days and 3 days in February, as retention's periods
    -- (0147; every part positive or zero, a month at least 28 days, the comparison with 5 minutes is exact); and
    -- (0155, review r1) at most 1000 years: now() minus '10000 years' is before 4713 BC, the earliest time PostgreSQL
    -- holds, and every drift and performance view failed with a bare 22008 "timestamp out of range" for every model
    -- (NULL is every prediction since deploy)
    CONSTRAINT drift_windows_length_check CHECK (length IS NULL OR (
        length >= interval '5 minutes' AND length <= interval '1000 years'
        AND extract(year FROM length) >= 0 AND extract(month FROM length) >= 0
        AND extract(day FROM length) >= 0 AND extract(hour FROM length) >= 0
        AND extract(minute FROM length) >= 0 AND extract(second FROM length) >= 0)),
    CONSTRAINT drift_windows_name_check CHECK (window_name ~ '^[A-Za-z0-9 _.-]{1,40}$')
);
COMMENT ON TABLE pgscore.drift_windows IS 'The windows the drift and performance views report on: the last `length` up to now, or (length NULL) everything the live version has logged';
COMMENT ON COLUMN pgscore.drift_windows.window_name IS 'Name shown in the views, e.g. ''1 day''';
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches, at least 5 minutes and at most 1000 years, in parts of one sign (since 0155: ''-1 mon 31 days'' is a different length on different dates); NULL = since deploy (every prediction of the live version)';
COMMENT ON COLUMN pgscore.drift_windows.sort_order IS 'Display order';
INSERT INTO pgscore.drift_windows (window_name, length, sort_order) VALUES
    ('1 hour', interval '1 hour', 1), ('12 hours', interval '12 hours', 2), ('1 day', interval '1 day', 3),
    ('7 days', interval '7 days', 4), ('since deploy', NULL, 5);

CREATE TABLE pgscore.drift_thresholds (
    metric      text PRIMARY KEY,
    warn        float8 NOT NULL,
    alert       float8 NOT NULL,
    min_n       integer NOT NULL DEFAULT 100,
    description text NOT NULL,
    confidence  float8 DEFAULT 0.999,
    CONSTRAINT drift_thresholds_metric_check CHECK (metric IN (
        'psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range',
        'auc_drop', 'accuracy_drop', 'brier_rise', 'rmse_rise', 'class_mix')),
    CONSTRAINT drift_thresholds_order_check CHECK (warn >= 0 AND warn <= alert),
    CONSTRAINT drift_thresholds_min_n_check CHECK (min_n >= 1),
    CONSTRAINT drift_thresholds_confidence_check CHECK (confidence > 0 AND confidence < 1)
);
COMMENT ON TABLE pgscore.drift_thresholds IS 'When a metric warns or alerts, and the fewest values (or outcomes) a window needs before it is judged at all';
COMMENT ON COLUMN pgscore.drift_thresholds.metric IS 'The metric, as named in the drift and performance views';
COMMENT ON COLUMN pgscore.drift_thresholds.warn IS 'Level at or above which the metric warns';
COMMENT ON COLUMN pgscore.drift_thresholds.alert IS 'Level at or above which the metric alerts';
COMMENT ON COLUMN pgscore.drift_thresholds.min_n IS 'Below this many values in the window the metric reports insufficient_data instead of a level';
COMMENT ON COLUMN pgscore.drift_thresholds.description IS 'What the metric measures and why the default';
COMMENT ON COLUMN pgscore.drift_thresholds.confidence IS 'The metric warns or alerts only above its noise floor at this confidence too (pgscore.noise_floor: what sampling alone reaches at the window''s and the baseline''s sizes), family-wise over a model''s features and score (each of k at confidence^(1/k)); NULL: by the thresholds alone';
INSERT INTO pgscore.drift_thresholds (metric, warn, alert, min_n, description) VALUES
    ('psi', 0.1, 0.2, 100, 'population stability index over the baseline bins; 0.1 and 0.2 are the customary cut-offs'),
    ('ks', 0.1, 0.2, 100, 'largest gap between the current and baseline cumulative shares at the baseline bin edges'),
    ('js', 0.13, 0.19, 100, 'Jensen-Shannon distance (base 2, 0..1) over the baseline bins; for small shifts these match PSI 0.1 and 0.2'),
    ('mean_shift', 0.3, 0.5, 100, 'absolute change of the mean in baseline standard deviations; half a standard deviation moves PSI past 0.2 for a normal feature'),
    ('null_rate', 0.05, 0.1, 100, 'rise of the share of NULL/NaN values over the baseline share (5 and 10 percentage points)'),
    ('out_of_range', 0.02, 0.05, 100, 'share of values outside the baseline min..max (0 at training by construction)'),
    ('auc_drop', 0.05, 0.1, 100, 'hold-out AUC at deploy minus realised AUC'),
    ('accuracy_drop', 0.05, 0.1, 100, 'hold-out accuracy at deploy minus realised accuracy'),
    ('brier_rise', 0.02, 0.05, 100, 'realised Brier score minus the hold-out Brier score at deploy'),
    ('rmse_rise', 0.1, 0.25, 100, 'realised RMSE over the hold-out RMSE at deploy, minus 1 (0.1 = 10% worse)');
-- (0122) no noise floor: pgscore.noise_floor has none for it, and at 100 predictions over a few classes sampling
-- alone gives a PSI of about (k - 1) / 100
INSERT INTO pgscore.drift_thresholds (metric, warn, alert, min_n, description, confidence) VALUES
    ('class_mix', 0.1, 0.2, 100, 'population stability index over a multiclass model''s predicted classes (pgscore.class_drift): the share of each class in the window against its share at deploy; the cut-offs are PSI''s', NULL);

-- (0129) per-model (and per-feature) thresholds: a row overrides drift_thresholds for one model, and with a
-- subject for one of its features (or its score) alone; each NULL of warn, alert, min_n and confidence inherits
-- (a subject's from the model's row of the metric, the model's from drift_thresholds). Written through
-- pgscore.set_thresholds and clear_thresholds; rows stay when the model is retired and apply to any version
-- deployed again under its name
CREATE TABLE pgscore.drift_threshold_overrides (
    model      text NOT NULL,
    metric     text NOT NULL REFERENCES pgscore.drift_thresholds (metric) ON UPDATE CASCADE ON DELETE CASCADE,
    subject    text,
    warn       float8,
    alert      float8,
    min_n      integer,
    confidence float8,
    created_by name NOT NULL DEFAULT session_user,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT drift_threshold_overrides_key UNIQUE NULLS NOT DISTINCT (model, metric, subject),
    CONSTRAINT drift_threshold_overrides_subject_check CHECK (subject IS NULL OR metric IN (
        'psi', 'ks', 'js', 'mean_shift', 'null_rate', 'out_of_range')),
    CONSTRAINT drift_threshold_overrides_some_check CHECK (
        warn IS NOT NULL OR alert IS NOT NULL OR min_n IS NOT NULL OR confidence IS NOT NULL),
    CONSTRAINT drift_threshold_overrides_order_check CHECK (warn >= 0 AND alert >= 0 AND warn <= alert),
    CONSTRAINT drift_threshold_overrides_min_n_check CHECK (min_n >= 1),
    -- (0133) 0: no noise floor for the model (or the subject), whatever drift_thresholds.confidence holds
    CONSTRAINT drift_threshold_overrides_confidence_check CHECK (confidence >= 0 AND confidence < 1)
);
COMMENT ON TABLE pgscore.drift_threshold_overrides IS 'Per-model (and per-feature) overrides of pgscore.drift_thresholds (pgscore.set_thresholds, clear_thresholds): every view that judges a metric of the model reads them; a NULL column inherits (a subject''s row from the model''s row of the metric, the model''s from drift_thresholds)';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.model IS 'The model name (every version of it, live or shadow, and any deployed later under the name)';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.metric IS 'The metric (pgscore.drift_thresholds.metric)';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.subject IS 'One feature of the model, or score, alone (as pgscore.alerts.subject; drift metrics only); NULL: every feature and the score, or the model''s realised performance or class mix';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.warn IS 'Level at or above which the metric warns; NULL: inherited';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.alert IS 'Level at or above which the metric alerts; NULL: inherited';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.min_n IS 'The fewest values (outcomes) a window needs to be judged; NULL: inherited';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.confidence IS 'The noise floor''s confidence, family-wise over the model''s features and score as drift_thresholds.confidence is (each check at confidence^(1/k)); NULL: inherited; 0 (since 0133): no noise floor, the thresholds alone judge it (a model''s row: every feature and the score that sets none of its own); class_mix has no noise floor, so none';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.created_by IS 'The login that set it last (session_user)';
COMMENT ON COLUMN pgscore.drift_threshold_overrides.updated_at IS 'When it was set last';

-- (0133) one row every write of the thresholds updates (pgscore.check_threshold_order, set_thresholds) after taking
-- the overrides' lock: a REPEATABLE READ (or SERIALIZABLE) transaction whose snapshot was taken before another
-- session's write committed cannot see that write, and would check warn at most alert against the thresholds as
-- they were (a model's warn raised to 0.3 by another session, a subject's alert then set to 0.25 under it); its
-- update of this row fails with 40001 instead, as any update of a row changed since its snapshot does
CREATE TABLE pgscore.threshold_writes (
    one    boolean PRIMARY KEY DEFAULT true CONSTRAINT threshold_writes_one_check CHECK (one),
    writes bigint NOT NULL DEFAULT 0
);
INSERT INTO pgscore.threshold_writes DEFAULT VALUES;
COMMENT ON TABLE pgscore.threshold_writes IS 'One row, updated by every write of pgscore.drift_thresholds and pgscore.drift_threshold_overrides (under the overrides'' lock): a transaction whose snapshot missed another''s committed write fails on it with 40001 rather than check warn at most alert against thresholds no longer in place (migration 0133)';
COMMENT ON COLUMN pgscore.threshold_writes.one IS 'true: the one row';
COMMENT ON COLUMN pgscore.threshold_writes.writes IS 'How many statements have written the thresholds since migration 0133';

CREATE TABLE pgscore.drift_rollup (
    model_id bigint NOT NULL,
    bucket   timestamptz NOT NULL,
    kind     text NOT NULL,
    position integer NOT NULL,
    bin      integer NOT NULL,
    n        bigint NOT NULL,
    total    float8 NOT NULL,
    n_out    bigint NOT NULL,
    PRIMARY KEY (model_id, bucket, kind, position, bin)
);
COMMENT ON TABLE pgscore.drift_rollup IS 'Counts per 5 minutes (bucket: its start, in UTC) of logged feature values and scores per baseline bin (bin -1 = NULL or NaN), with their sum and how many fell outside the baseline range; built by refresh_monitoring()';

-- The same counts per UTC day, summed from drift_rollup, so that a window of days reads a few rows per day
-- instead of 288 buckets
CREATE TABLE pgscore.drift_rollup_day (
    model_id bigint NOT NULL,
    day      timestamptz NOT NULL,
    kind     text NOT NULL,
    position integer NOT NULL,
    bin      integer NOT NULL,
    n        bigint NOT NULL,
    total    float8 NOT NULL,
    n_out    bigint NOT NULL,
    PRIMARY KEY (model_id, day, kind, position, bin)
);
COMMENT ON TABLE pgscore.drift_rollup_day IS 'pgscore.drift_rollup summed per UTC day (day: its start); refresh_monitoring() re-sums each day it rolls up, and the views read a day from here once the rollups cover all of it';

CREATE TABLE pgscore.monitoring_state (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    rolled_until timestamptz NOT NULL DEFAULT '-infinity',
    refreshed_at timestamptz
);
COMMENT ON TABLE pgscore.monitoring_state IS 'One row: the rollups cover every whole 5-minute bucket before rolled_until; the views read the log itself from there on';
INSERT INTO pgscore.monitoring_state DEFAULT VALUES;

CREATE TABLE pgscore.alert_state (
    model      text NOT NULL,
    version    integer NOT NULL,
    what       text NOT NULL,
    subject    text NOT NULL,
    window_name text NOT NULL,
    metric     text NOT NULL,
    level      text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    shadow     boolean,
    PRIMARY KEY (model, version, what, subject, window_name, metric, level)
);
COMMENT ON TABLE pgscore.alert_state IS 'Each firing condition and when refresh_monitoring() first saw it; rows go when the condition clears';
COMMENT ON COLUMN pgscore.alert_state.shadow IS 'Whether the condition was a shadow version''s (pgscore.firing.shadow) at the last refresh that found it; NULL for a row recorded before this column';

-- (0126) an on-call's mute: one known condition (or all of a model's) silenced for a while, saying who and why.
-- pgscore.alerts still lists a silenced condition, with silenced_until and silence_id; pgscore drift and status
-- do not count it. Rows are never deleted by pgscore: lifting one early sets lifted_at and lifted_by
CREATE TABLE pgscore.alert_silences (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model       text NOT NULL,
    what        text,
    subject     text,
    metric      text,
    window_name text,
    shadow      boolean,
    starts_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL,
    created_by  name NOT NULL DEFAULT session_user,
    created_at  timestamptz NOT NULL DEFAULT now(),
    lifted_at   timestamptz,
    lifted_by   name,
    CONSTRAINT alert_silences_ends_check CHECK (ends_at > starts_at),
    CONSTRAINT alert_silences_reason_check CHECK (btrim(reason) <> ''),
    CONSTRAINT alert_silences_lifted_check CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
-- (alerts looks up the silences in force per model: the ones never lifted)
CREATE INDEX alert_silences_model_idx ON pgscore.alert_silences (model, ends_at) WHERE lifted_at IS NULL;
COMMENT ON TABLE pgscore.alert_silences IS 'Silences of alerts (pgscore.silence_alerts, lift_silence): while one is in force (not lifted, starts_at <= now() < ends_at) the conditions of pgscore.alerts it matches show silenced_until and silence_id and pgscore drift and status do not count them; never deleted by pgscore';
COMMENT ON COLUMN pgscore.alert_silences.id IS 'The silence''s number (pgscore.alerts.silence_id; pgscore unsilence ID)';
COMMENT ON COLUMN pgscore.alert_silences.model IS 'The model name whose conditions it silences';
COMMENT ON COLUMN pgscore.alert_silences.what IS 'Silences the conditions of this what alone (feature, score, performance or class, as pgscore.alerts.what); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.subject IS 'Silences the conditions of this subject alone (a feature, score, outcomes, ... as pgscore.alerts.subject); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.metric IS 'Silences the conditions of this metric alone (pgscore.drift_thresholds.metric); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.window_name IS 'Silences the conditions in this window alone (pgscore.drift_windows); NULL: any';
COMMENT ON COLUMN pgscore.alert_silences.shadow IS 'true: a shadow version''s conditions alone; false: the live version''s alone; NULL: both';
COMMENT ON COLUMN pgscore.alert_silences.starts_at IS 'When the silence begins';
COMMENT ON COLUMN pgscore.alert_silences.ends_at IS 'When it ends (at most 90 days after starts_at through silence_alerts)';
COMMENT ON COLUMN pgscore.alert_silences.reason IS 'Why: the incident, ticket or fix under way';
COMMENT ON COLUMN pgscore.alert_silences.created_by IS 'The login that silenced (session_user: the person''s login, also under SET ROLE pgscore_admin)';
COMMENT ON COLUMN pgscore.alert_silences.created_at IS 'When the silence was made';
COMMENT ON COLUMN pgscore.alert_silences.lifted_at IS 'When it was lifted before its end (pgscore.lift_silence); NULL: not lifted';
COMMENT ON COLUMN pgscore.alert_silences.lifted_by IS 'The login that lifted it (session_user)';
