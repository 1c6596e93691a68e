-- 0029 to 0028: the versions' reasons go (the deployments keep theirs).
ALTER TABLE pgscore.models DROP COLUMN reason;
