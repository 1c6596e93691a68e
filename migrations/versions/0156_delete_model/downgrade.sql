-- 0156 to 0154: no pgscore.delete_model

DROP FUNCTION pgscore.delete_model(text);
