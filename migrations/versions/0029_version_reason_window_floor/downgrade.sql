-- 0029 to 0028: the versions' reasons go (the deployments keep theirs); a window may again be any length.
ALTER TABLE pgscore.models DROP COLUMN reason;
ALTER TABLE pgscore.drift_windows DROP CONSTRAINT drift_windows_length_check;
ALTER TABLE pgscore.drift_windows ADD CONSTRAINT drift_windows_length_check CHECK (length IS NULL OR length > interval '0');
COMMENT ON COLUMN pgscore.drift_windows.length IS 'How far back from now() the window reaches; NULL = since deploy (every prediction of the live version)';
