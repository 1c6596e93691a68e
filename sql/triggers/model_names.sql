/*
 * (migration 0135) A DELETE of a version still referred to is refused with what refers to it and a hint; a name's
 * first version drops what a deleted model of that name left (silences, threshold overrides, alert state).
 */
CREATE TRIGGER models_delete_explained BEFORE DELETE ON pgscore.models
    FOR EACH ROW EXECUTE FUNCTION pgscore.explain_model_delete();
CREATE TRIGGER models_first_version_forgets AFTER INSERT ON pgscore.models
    FOR EACH ROW EXECUTE FUNCTION pgscore.forget_deleted_namesake();
