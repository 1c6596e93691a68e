-- 0135 to 0134: the triggers of pgscore.models that explain a DELETE and drop what a deleted namesake left, dropped
DROP TRIGGER models_first_version_forgets ON pgscore.models;
DROP TRIGGER models_delete_explained ON pgscore.models;
DROP FUNCTION pgscore.forget_deleted_namesake();
DROP FUNCTION pgscore.explain_model_delete();
