/*
 * Training-time distribution of every feature and of the score, captured at
 * deploy: quantile bin edges (width_bucket semantics), expected fraction per
 * bin, moments, range, null rate and n. The drift views compare against it.
 */
CREATE TABLE pgscore.baselines (
    model_id  bigint NOT NULL REFERENCES pgscore.models (model_id),
    kind      text NOT NULL,
    feature   text NOT NULL,
    position  integer NOT NULL,
    edges     float8[] NOT NULL,
    expected  float8[] NOT NULL,
    mean      float8,
    std       float8,
    min       float8,
    max       float8,
    null_rate float8 NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (model_id, kind, feature),
    CONSTRAINT baselines_kind_check CHECK (kind IN ('feature', 'score', 'class')),
    CONSTRAINT baselines_bins_check CHECK (cardinality(expected) = 0 OR cardinality(expected) = cardinality(edges) + 1),
    -- a multiclass model's predicted-class mix (migration 0122): one row, a share per class in the order of the
    -- model's classes, edges 1..k-1 (class i is width_bucket's bin i); no mean, std or range
    CONSTRAINT baselines_class_check CHECK (kind <> 'class' OR (feature = 'class' AND position = 0
        AND cardinality(expected) >= 2 AND mean IS NULL AND std IS NULL AND min IS NULL AND max IS NULL))
);
COMMENT ON TABLE pgscore.baselines IS 'Per model: the training distribution of each feature and of the score (bin edges, expected fractions, mean, std, min, max, null rate, n), and (kind class, since 0122) a multiclass model''s share of each predicted class';
