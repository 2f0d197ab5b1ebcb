"""Indexes for the server store's common scopes (issue 16): a force's or a district's months
of street crimes, and a force's stop and search by time.

PostgreSQL only (``POSTGRES_SQL``, run after ``SQL`` by a store whose dialect is postgres): a
shared server store holds several forces and years, and every page filters on these columns,
so PostgreSQL reads the scope's rows instead of the whole table. The embedded DuckDB store
scans columns with its zone maps and needs none (an ART index there would slow every ingest
and delete), so its ``SQL`` is a statement that changes nothing.
"""

VERSION = 11
DESCRIPTION = "server store indexes: street crimes by force/district and month, stop search"
SQL = "SELECT 1"
POSTGRES_SQL = """
        CREATE INDEX IF NOT EXISTS street_crimes_force_month
            ON street_crimes (falls_within, month);
        CREATE INDEX IF NOT EXISTS street_crimes_lad_month ON street_crimes (lad_code, month);
        CREATE INDEX IF NOT EXISTS stop_searches_force_datetime
            ON stop_searches (force, datetime);
        CREATE INDEX IF NOT EXISTS stop_searches_force_month ON stop_searches (force, month);
        ANALYZE street_crimes;
        ANALYZE stop_searches;
        """
