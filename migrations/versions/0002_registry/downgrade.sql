-- undo 0002 registry
DROP VIEW pgscore.model_versions;
DROP FUNCTION pgscore.score(text, float8[], integer);
DROP FUNCTION pgscore.predict(text, float8[], integer);
DROP FUNCTION pgscore.predict_proba(text, float8[], integer);
DROP FUNCTION pgscore.register_model(text, bytea, text, jsonb, jsonb, boolean, text);
DROP FUNCTION pgscore.activate(text, integer, text);
DROP FUNCTION pgscore.rollback(text, integer, text);
DROP FUNCTION pgscore.retire(text, text);
DROP TABLE pgscore.baselines;
DELETE FROM pgscore.deployments WHERE action = 'retire';
ALTER TABLE pgscore.deployments DROP CONSTRAINT deployments_action_check;
ALTER TABLE pgscore.deployments ADD CONSTRAINT deployments_action_check CHECK (action IN ('deploy', 'rollback'));
