-- (migration 0160) which table a queued profile belongs to, by OID: the name alone handed a dropped table's queue
-- to a table made again under its name (a tenant's schema dropped and made again), whose unrelated profiles
-- retry_failed then rescored. queue_oid and queue_system tell a row of this database from one restored from a dump,
-- where every OID is new: such a row's profile_oid means nothing here, and the row is matched by its profile table's
-- name. The queue's OID alone does not tell: a dump restored into a fresh cluster may give it the OID it had (a
-- database itself restored from a dump, restored again), so the cluster's system identifier, made at initdb and never
-- in a dump, is kept too (session 66, review r4: edited in place).
ALTER TABLE pgscore.error_queue
    ADD COLUMN profile_oid oid,
    ADD COLUMN queue_oid oid NOT NULL DEFAULT 'pgscore.error_queue'::pg_catalog.regclass,
    ADD COLUMN queue_system bigint NOT NULL DEFAULT (pg_catalog.pg_control_system()).system_identifier;
COMMENT ON COLUMN pgscore.error_queue.profile_oid IS 'The OID of the profile table the row was queued for (NULL: none found by its name then); retry_failed and attach_rescoring pass the row on only to that table, not to another made later under its name';
COMMENT ON COLUMN pgscore.error_queue.queue_oid IS 'The OID of pgscore.error_queue where the row was queued: another (a dump restored, whose OIDs are all new) means profile_oid is of another database, and the row is matched by its profile table''s name';
COMMENT ON COLUMN pgscore.error_queue.queue_system IS 'The system identifier of the cluster where the row was queued (pg_control_system()): another (a dump restored into another cluster, which may give pgscore.error_queue the OID it had) means profile_oid is of another database, as for queue_oid';
-- the rows queued before: the table their name finds now (looked up in the catalog, which needs no privilege)
UPDATE pgscore.error_queue AS q SET profile_oid = c.oid
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = (pg_catalog.parse_ident(q.profile_table))[pg_catalog.cardinality(pg_catalog.parse_ident(q.profile_table))]
   AND (pg_catalog.cardinality(pg_catalog.parse_ident(q.profile_table)) = 1
        OR n.nspname = (pg_catalog.parse_ident(q.profile_table))[pg_catalog.cardinality(pg_catalog.parse_ident(q.profile_table)) - 1]);
