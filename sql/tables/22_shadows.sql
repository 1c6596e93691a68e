/*
 * Append-only history of shadow scoring: a version marked 'start' is scored
 * next to the live version of its name wherever that one's scores are written
 * (the rescoring trigger, score_table), its predictions logged under its own
 * model_id with source 'shadow' and never served. The newest row per version
 * says whether it is a shadow ('start') or not ('stop'); a version made live
 * after its mark (a deployment newer than since_deployment) is a shadow no
 * more. pgscore.shadow_versions lists the current ones. Nothing is updated in
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
COMMENT ON TABLE pgscore.shadows IS 'Append-only history of shadow scoring (set_shadow, clear_shadow); the newest row per version wins, and a version made live since its mark is no shadow';
