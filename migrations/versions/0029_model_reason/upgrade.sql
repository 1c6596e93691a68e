-- 0028 to 0029: each model version keeps the reason given when it was stored (pgscore.register_model's
-- p_reason), whether or not it went live: a deployment row holds it only for a version made live at
-- once, and an alembic revision that deploys with activate=False left nothing to find it by. Versions
-- stored before keep NULL.
ALTER TABLE pgscore.models ADD COLUMN reason text;
COMMENT ON COLUMN pgscore.models.reason IS 'The reason given when the version was stored, live or not (an alembic revision''s deploy_model gives ''alembic revision <id>'', which its undeploy_model looks for)';
