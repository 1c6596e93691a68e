/*
 * Registry rows are append-only.
 */
CREATE TRIGGER models_immutable BEFORE UPDATE ON pgscore.models
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER artifacts_immutable BEFORE UPDATE ON pgscore.artifacts
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER deployments_immutable BEFORE UPDATE ON pgscore.deployments
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER baselines_immutable BEFORE UPDATE ON pgscore.baselines
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER evaluators_immutable BEFORE UPDATE ON pgscore.evaluators
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
CREATE TRIGGER shadows_immutable BEFORE UPDATE ON pgscore.shadows
    FOR EACH ROW EXECUTE FUNCTION pgscore.forbid_mutation();
/*
 * (0158) Where a subscription writes the registry, it alone does (pgscore.refuse_subscribed_registry).
 */
CREATE TRIGGER models_not_subscribed BEFORE INSERT OR DELETE ON pgscore.models
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.refuse_subscribed_registry();
CREATE TRIGGER deployments_not_subscribed BEFORE INSERT OR DELETE ON pgscore.deployments
    FOR EACH STATEMENT EXECUTE FUNCTION pgscore.refuse_subscribed_registry();
