-- 0136 to 0137: pgscore.count_shadow_failure resolves the table's name exactly (schema-qualified, under search_path
-- pg_catalog, pg_temp), refuses a temporary table and counts under the table's schema-qualified name: 0134 took any
-- schema's table of the name, a temporary one among them, and kept the name as given
CREATE OR REPLACE FUNCTION pgscore.count_shadow_failure(p_model_id bigint, p_relation text, p_sqlstate text, p_profiles bigint,
                                             p_message text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row integer;
    v_role text := coalesce(nullif(current_setting('role'), 'none'), session_user);
    v_oid regclass;
    v_relation text;
BEGIN
    IF p_model_id IS NULL OR p_relation IS NULL OR p_sqlstate IS NULL OR p_profiles IS NULL OR p_message IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: model_id, relation, sqlstate, profiles and message must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_profiles < 0 THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: the profiles or rows of % that model_id % did not score must not be negative, got %',
                p_relation, p_model_id, p_profiles
            USING ERRCODE = 'invalid_parameter_value', HINT = 'a count of failures only grows: give how many it did not score';
    END IF;
    IF p_sqlstate !~ '^[0-9A-Z]{5}$' THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: % is not a SQLSTATE (the failure of model_id % in %)',
                quote_literal(p_sqlstate), p_model_id, p_relation
            USING ERRCODE = 'invalid_parameter_value', HINT = 'give the five characters of the error''s SQLSTATE, 38000 where the model raised';
    END IF;
    -- a table the caller writes as it scores, by its name as the trigger and score_table give it (regclass's text
    -- under this function's search_path: schema-qualified), resolved exactly; not a temporary table (0137: 0134
    -- took any schema's table of the name, a temporary one among them); counted under its schema-qualified name
    v_oid := to_regclass(p_relation);
    SELECT format('%I.%I', n.nspname, c.relname) INTO v_relation
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = v_oid AND c.relkind IN ('r', 'p', 'f') AND c.relpersistence <> 't'
       AND has_any_column_privilege(v_role, c.oid, 'UPDATE');
    IF v_relation IS NULL THEN
        RAISE EXCEPTION 'pgscore.count_shadow_failure: role % does not write %: a shadow''s failures are counted in the table its caller scores, which it may UPDATE, named schema-qualified, not a temporary table (model_id %); nothing was counted',
                quote_ident(v_role), p_relation, p_model_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the rescoring trigger and score_table count them, as the role that writes the table, under its schema-qualified name';
    END IF;
    -- shadow_versions' rule for this one version (its newest mark a start, and no go-live of it since), read
    -- from the tables: the view's DISTINCT ON over every mark cost this path twice as much
    IF NOT EXISTS (SELECT 1 FROM (SELECT s.model_name, s.action, s.since_deployment FROM pgscore.shadows s
                                   WHERE s.model_id = p_model_id ORDER BY s.shadow_id DESC LIMIT 1) s
                    WHERE s.action = 'start'
                      AND NOT EXISTS (SELECT 1 FROM pgscore.deployments d
                                       WHERE d.model_name = s.model_name AND d.model_id = p_model_id
                                         AND d.deployment_id > coalesce(s.since_deployment, 0) AND d.action <> 'retire')) THEN
        RETURN false;
    END IF;
    -- this backend's row, else its second, whose lock no transaction it PREPAREd holds (the lock and the row go to
    -- the prepared transaction until COMMIT PREPARED: waiting for it never ended); both held: nothing counted,
    -- where a prepared transaction holds a lock on the table. Any login may take an advisory lock: one granted
    -- nothing that held both of this backend's had its failures counted nothing. No prepared transaction holding
    -- a lock on the table, none holds a row of it (nor one counted into without the lock, here), and the count
    -- waits for none
    IF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), pg_backend_pid()) THEN
        v_row := pg_backend_pid();
    ELSIF pg_try_advisory_xact_lock(hashtext('pgscore.shadow_failures'), -pg_backend_pid()) THEN
        v_row := -pg_backend_pid();
    ELSIF NOT EXISTS (SELECT 1 FROM pg_locks l
                       WHERE l.locktype = 'relation' AND l.relation = 'pgscore.shadow_failures'::regclass
                         AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                         AND l.pid IS NULL) THEN
        v_row := pg_backend_pid();
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO pgscore.shadow_failures AS f (model_id, relation, sqlstate, backend_pid, statements, profiles, first_at,
                                              last_at, last_message)
    VALUES (p_model_id, v_relation, p_sqlstate, v_row, 1, p_profiles, clock_timestamp(), clock_timestamp(),
            p_message)
    ON CONFLICT (model_id, relation, sqlstate, backend_pid) DO UPDATE
       SET statements = f.statements + 1, profiles = f.profiles + EXCLUDED.profiles, last_at = EXCLUDED.last_at,
           last_message = EXCLUDED.last_message;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION pgscore.count_shadow_failure(bigint, text, text, bigint, text) IS 'Internal: count a statement or chunk in which a version scored in shadow did not score in a table the caller may UPDATE, named schema-qualified, not temporary (42501 for another: 0134, 0137), under its schema-qualified name (this backend''s row of pgscore.shadow_failures, its second while a transaction it prepared holds the first); false, nothing counted, for a version that is no shadow now; NULL, nothing counted, where transactions it prepared hold both rows';
