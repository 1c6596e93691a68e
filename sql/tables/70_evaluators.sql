/*
 * The fast evaluator of each model version: the estimator compiled at deploy
 * into plain numpy arrays (no pickle), proved equal to scikit-learn on the
 * deploy data. A row without bytes records why the model could not be
 * compiled; such models are scored by scikit-learn itself.
 */
CREATE TABLE pgscore.evaluators (
    model_id     bigint PRIMARY KEY REFERENCES pgscore.models (model_id),
    format       text NOT NULL,
    bytes        bytea,
    sha256       text,
    hmac_sha256  text,
    checked_rows integer,
    max_abs_diff float8,
    reason       text,
    CONSTRAINT evaluators_bytes_check CHECK ((bytes IS NULL) = (sha256 IS NULL)),
    CONSTRAINT evaluators_reason_check CHECK (bytes IS NOT NULL OR reason IS NOT NULL),
    CONSTRAINT evaluators_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT evaluators_hmac_check CHECK (hmac_sha256 ~ '^(v2:)?[0-9a-f]{64}$')
);
COMMENT ON TABLE pgscore.evaluators IS 'Each model compiled to numpy arrays at deploy and checked against scikit-learn; bytes NULL (with a reason) means scikit-learn scores it';
