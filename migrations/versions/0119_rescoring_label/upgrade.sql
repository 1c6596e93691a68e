-- 0118 to 0119: attach_rescoring takes p_label_column (appended last, DEFAULT NULL: every named and positional
-- call of before keeps working): every path that writes the wired score onto the profile (the statement trigger,
-- the row trigger for replicated rows, retry_failed, refresh_windows, backfill_rescoring) also writes into that
-- column the class pgscore.predict gives for the same features and version. pgscore.rescoring keeps it
-- (label_column, NULL: none). The old signature is dropped (a second one with a default would make a call of
-- twelve arguments ambiguous) and the new one made with the same comment (and a clause on the label) and grants.

ALTER TABLE pgscore.rescoring ADD COLUMN label_column name;
COMMENT ON COLUMN pgscore.rescoring.label_column IS 'The profile column a classifier''s predicted class (as pgscore.predict gives it) is written into with each score; NULL: none';

DROP FUNCTION pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name, boolean);

CREATE FUNCTION pgscore.attach_rescoring(
    p_event_table regclass, p_profile_table regclass, p_key name, p_model text, p_score_column name,
    p_counters jsonb DEFAULT '{}'::jsonb, p_scored_at_column name DEFAULT 'scored_at',
    p_profile_key name DEFAULT NULL, p_missing_profile text DEFAULT 'create', p_strict boolean DEFAULT false,
    p_event_id_column name DEFAULT NULL, p_replicated boolean DEFAULT NULL,
    p_label_column name DEFAULT NULL)
RETURNS bigint
LANGUAGE plpython3u
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $pl$
try:
    from pgscore.pl import attach_rescoring
except ImportError as e:  # a server started without pgscore's environment
    plpy.error("pgscore cannot be imported by the database's Python: %s" % e, sqlstate="58P01",
               hint="restart the server with PYTHONPATH naming the site-packages directory of the environment pgscore was installed into with the server's own Python, not the venv itself (any pgscore command of that environment prints the exact value; README, 'Installing into an existing server'), then SELECT pgscore.validate_environment()")
return attach_rescoring(plpy, GD, p_event_table, p_profile_table, p_key, p_model, p_score_column, p_counters,
                        p_scored_at_column, p_profile_key, p_missing_profile, p_strict, p_event_id_column,
                        p_replicated, p_label_column)
$pl$;
COMMENT ON FUNCTION pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name, boolean, name) IS 'Wire an event table to a profile table: each INSERT updates the profile counters and rescores the profiles it touches in the same statement (p_replicated: and each row logical replication applies, by a row trigger enabled for replication; NULL: where a subscription writes the table; p_label_column: and writes a classifier''s predicted class, as pgscore.predict gives it, into that column); returns the rescoring_id';

REVOKE EXECUTE ON FUNCTION pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name, boolean, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgscore.attach_rescoring(regclass, regclass, name, text, name, jsonb, name, name, text, boolean, name, boolean, name) TO pgscore_admin;

-- the label columns' comments: rescoring's p_label_column logs a binary classifier's class too
COMMENT ON COLUMN pgscore.predictions.label IS 'The predicted class, where it was logged: pgscore.predict''s label; a multiclass model''s predicted class whatever logged it (score, predict_proba, batches, rescoring); and the class score_table and score_chunk wrote with p_label_into (since migration 0115) or rescoring wrote into its p_label_column (since migration 0119), a binary classifier''s too; NULL for other scores (a binary classifier''s logged without its class, a regressor''s)';
COMMENT ON COLUMN pgscore.outcome_matches.label IS 'The judged prediction''s label, where it was logged: pgscore.predict''s; every path''s for a multiclass model (since migration 0017); score_table''s and score_chunk''s with p_label_into (since migration 0115) and rescoring''s into its p_label_column (since migration 0119), a binary classifier''s too';
