/*
 * The one refusal of a writer on a standby or in a read-only transaction (migration 0169): each of pgscore's
 * writers calls it first, naming what it writes ('pgscore.retire writes the registry'), and it raises 25006 with
 * that and where to run the writer instead (as record_outcome said since 0154: PostgreSQL's own 25006 has no
 * hint and quotes a statement inside the writer); else it does nothing. Internal: the same ten lines were written
 * into nineteen writers (0154, 0162, 0163). The writers call it only where transaction_read_only is on (an IF
 * around the call): called every time, it cost each writer's call 5-10 us more than the test inline (the
 * statement, the call, its SET clause). Not SECURITY DEFINER: it reads two settings of the caller's session
 * and writes nothing. Executable by PUBLIC (session 68; 0169 granted it to pgscore_admin alone, and a role granted
 * a writer that runs as its caller directly, not through pgscore_admin, got 42501 for it in a read-only transaction):
 * the writers that run as their caller (activate, rollback, retire, refresh_monitoring, the silences, thresholds and
 * wirings) call it as that caller; the others are SECURITY DEFINER. VOLATILE as pg_is_in_recovery is (a promotion ends recovery); PARALLEL RESTRICTED: a parallel
 * worker reads transaction_read_only as off in a READ ONLY transaction (declared SAFE, it refused nothing there).
 */
CREATE FUNCTION pgscore.refuse_read_only(p_writes text) RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF p_writes IS NULL THEN
        RAISE EXCEPTION 'pgscore.refuse_read_only: what the writer writes must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'it is internal to pgscore''s writers: pass a phrase such as ''pgscore.retire writes the registry''';
    END IF;
    IF current_setting('transaction_read_only') = 'on' THEN
        RAISE EXCEPTION '%: not %', p_writes,
            CASE WHEN pg_is_in_recovery() THEN 'on a standby, whose transactions are all read-only'
                 ELSE 'in a read-only transaction' END
            USING ERRCODE = 'read_only_sql_transaction',
                  HINT = CASE WHEN pg_is_in_recovery()
                              THEN 'run it on the primary: a hot standby (a read replica) takes no writes, and gets them by replication'
                              ELSE 'run it in a transaction that may write: not one begun READ ONLY, nor in a session with default_transaction_read_only = on' END;
    END IF;
END
$fn$;
COMMENT ON FUNCTION pgscore.refuse_read_only(text) IS 'Internal: raises 25006 naming what the calling writer writes and where to run it, on a standby or in a read-only transaction; else nothing';
