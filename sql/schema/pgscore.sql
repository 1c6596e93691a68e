/*
 * The pgscore schema, the PL/Python language it runs in, and a record of
 * what the install created (so that uninstalling removes only that).
 */
CREATE SCHEMA pgscore;
COMMENT ON SCHEMA pgscore IS 'pgscore: scikit-learn models deployed, run, audited and watched inside PostgreSQL';

CREATE TABLE pgscore.install_info (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    installed_at     timestamptz NOT NULL DEFAULT now(),
    installed_by     text NOT NULL DEFAULT current_user,
    created_plpython boolean NOT NULL
);
COMMENT ON TABLE pgscore.install_info IS 'One row: when pgscore was installed, by whom, and whether the install created plpython3u';

DO $do$
DECLARE
    v_created boolean := false;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'plpython3u') THEN
        CREATE EXTENSION plpython3u;
        v_created := true;
    END IF;
    INSERT INTO pgscore.install_info (created_plpython) VALUES (v_created);
END
$do$;
