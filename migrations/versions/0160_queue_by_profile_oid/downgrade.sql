ALTER TABLE pgscore.error_queue DROP COLUMN queue_system, DROP COLUMN queue_oid, DROP COLUMN profile_oid;
