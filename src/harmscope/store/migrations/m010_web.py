"""The web workspace (issue 16): accounts, server-side sessions and the web audit trail.

Written in the SQL both engines share (VARCHAR, BIGINT, BOOLEAN, TIMESTAMP), so the same
migration runs on DuckDB and PostgreSQL. Sessions hold only the sha256 of their token, so a
copy of the store gives no one a live session. ``web_audit`` is append-only: each row carries
the sha256 of the previous row's hash and its own fields (web/audit.py verifies the chain);
on PostgreSQL a trigger also refuses UPDATE and DELETE (``POSTGRES_SQL``, run after ``SQL``
by a store whose dialect is postgres).
"""

VERSION = 10
DESCRIPTION = "web workspace: accounts, sessions, hash-chained audit"
SQL = """
        CREATE TABLE web_accounts (
            name VARCHAR PRIMARY KEY,
            role VARCHAR NOT NULL,          -- partner | analyst | admin (public needs none)
            agency VARCHAR,                 -- police | health | council, for a partner
            password_hash VARCHAR NOT NULL, -- argon2id, PHC string
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            created_at TIMESTAMP NOT NULL
        );

        CREATE TABLE web_sessions (
            token_hash VARCHAR PRIMARY KEY, -- sha256 of the cookie's token, never the token
            account VARCHAR,                -- NULL: a visitor's pre-login session (CSRF only)
            csrf_token VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL
        );

        CREATE TABLE web_audit (
            audit_id BIGINT PRIMARY KEY,
            logged_at TIMESTAMP NOT NULL,   -- UTC
            who VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            agency VARCHAR,
            action VARCHAR NOT NULL,        -- view | export | upload | login | ...
            resource VARCHAR NOT NULL,
            audience VARCHAR NOT NULL,
            query VARCHAR NOT NULL,         -- the request path or library call
            params VARCHAR NOT NULL,        -- JSON of the parameters, keys sorted
            prev_hash VARCHAR NOT NULL,
            row_hash VARCHAR NOT NULL
        );
        """

# PostgreSQL only (12+ for CREATE OR REPLACE TRIGGER; Debian 12 ships 15): the audit table
# refuses UPDATE and DELETE (and TRUNCATE) outright, so an edit needs the table owner to drop
# the trigger first, and the hash chain still shows it. Idempotent: the web server runs it on
# every start on a PostgreSQL store (store/queries/web.py ensure_audit_trigger), as the
# migration runner cannot run PL/pgSQL through the DuckDB-dialect translation.
POSTGRES_SQL = """
        CREATE OR REPLACE FUNCTION web_audit_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'web_audit is append-only: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql;

        CREATE OR REPLACE TRIGGER web_audit_no_update_delete
            BEFORE UPDATE OR DELETE ON web_audit
            FOR EACH ROW EXECUTE FUNCTION web_audit_append_only();

        CREATE OR REPLACE TRIGGER web_audit_no_truncate
            BEFORE TRUNCATE ON web_audit
            FOR EACH STATEMENT EXECUTE FUNCTION web_audit_append_only();
        """
