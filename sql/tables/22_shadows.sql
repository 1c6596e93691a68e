/*
 * Append-only history of shadow scoring: a version marked 'start' is scored
 * next to the live version of its name wherever that one's scores are written
 * (the rescoring trigger, score_table), its predictions logged under its own
 * model_id with source 'shadow' and never served. The newest row per version
 * says whether it is a shadow ('start') or not ('stop'); a version made live
 * after its mark (a deployment newer than since_deployment) is a shadow no
 * more: since migration 0121 that end is appended too, a 'stop' whose
 * since_deployment names the deployment that made it live.
 * pgscore.shadow_versions lists the current ones. Nothing is updated in
 * place.
 */
CREATE TABLE pgscore.shadows (
    shadow_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name       text NOT NULL,
    model_id         bigint NOT NULL,
    action           text NOT NULL,
    since_deployment bigint,
    reason           text,
    changed_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    changed_by       text NOT NULL DEFAULT current_user,
    CONSTRAINT shadows_model_fkey FOREIGN KEY (model_name, model_id)
        REFERENCES pgscore.models (name, model_id),
    CONSTRAINT shadows_action_check CHECK (action IN ('start', 'stop'))
);
CREATE INDEX shadows_current_idx ON pgscore.shadows (model_name, model_id, shadow_id DESC);
COMMENT ON TABLE pgscore.shadows IS 'Append-only history of shadow scoring (set_shadow, clear_shadow, and a stop where a deployment made the version live, since_deployment naming it: migration 0121); the newest row per version wins, and a version made live since its mark is no shadow';

/*
 * What a shadow failed to score, counted where an operator reads it (pgscore
 * status): each statement of the rescoring trigger and each chunk of
 * score_table in which a version scored in shadow could not score (it could
 * not be loaded or planned, a profile or table lacks one of its features, the
 * model raised) adds one to its row, which a WARNING announces once per
 * session, model version and SQLSTATE. One row per backend, so that
 * concurrent sessions never wait on one another's count; set_shadow and
 * clear_shadow delete a version's rows. Written by pgscore.count_shadow_failure
 * alone, as its owner: the roles that score read it, and write it no more.
 */
CREATE TABLE pgscore.shadow_failures (
    model_id     bigint NOT NULL,
    relation     text NOT NULL,
    sqlstate     text NOT NULL,
    backend_pid  integer NOT NULL,
    statements   bigint NOT NULL,
    profiles     bigint NOT NULL,
    first_at     timestamptz NOT NULL,
    last_at      timestamptz NOT NULL,
    last_message text NOT NULL,
    CONSTRAINT shadow_failures_pkey PRIMARY KEY (model_id, relation, sqlstate, backend_pid)
);
COMMENT ON TABLE pgscore.shadow_failures IS 'Statements and chunks in which a shadow version could not score, per version, table, SQLSTATE and backend (pgscore status sums them); counted by count_shadow_failure alone, emptied for a version by set_shadow and clear_shadow';
COMMENT ON COLUMN pgscore.shadow_failures.relation IS 'The profile table the rescoring trigger wrote, or the table score_table scored';
COMMENT ON COLUMN pgscore.shadow_failures.statements IS 'Statements (rescoring) and chunks (score_table) in which the shadow scored nothing or not every row';
COMMENT ON COLUMN pgscore.shadow_failures.profiles IS 'Profiles or rows the shadow did not score in them';
