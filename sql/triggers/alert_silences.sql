/*
 * A silence is made as pgscore.silence_alerts makes it and lifted once as pgscore.lift_silence lifts it
 * (migration 0126): the admin's INSERT and UPDATE (lifted_at, lifted_by) allow nothing else.
 */
CREATE TRIGGER alert_silences_guard BEFORE INSERT OR UPDATE ON pgscore.alert_silences
    FOR EACH ROW EXECUTE FUNCTION pgscore.guard_alert_silences();
