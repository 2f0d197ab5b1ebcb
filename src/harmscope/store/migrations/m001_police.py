"""Canonical police tables, provenance (ingests, partitions) and quarantine (rejects)."""

VERSION = 1
DESCRIPTION = "canonical police tables, provenance and quarantine"
# The columns a street crime and an outcome share, as police.uk publishes them. Building the
# text from one piece leaves the SQL this released migration runs unchanged, to the byte.
_CRIME_PLACE = """\
            crime_id VARCHAR,
            month DATE NOT NULL,
            reported_by VARCHAR,
            falls_within VARCHAR NOT NULL,
            longitude DOUBLE,
            latitude DOUBLE,
            location VARCHAR,
            lsoa_code VARCHAR,
            lsoa_name VARCHAR,"""
SQL = f"""
        CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1;

        CREATE TABLE ingests (
            ingest_id BIGINT PRIMARY KEY,
            path VARCHAR NOT NULL,
            file_name VARCHAR NOT NULL,
            member VARCHAR,              -- member name inside a zip archive
            sha256 VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL,
            kind VARCHAR NOT NULL,       -- street | outcomes | stop_search | ...
            force VARCHAR,
            months VARCHAR,              -- comma-separated YYYY-MM covered
            rows_read BIGINT NOT NULL,
            rows_loaded BIGINT NOT NULL,
            rows_duplicate BIGINT NOT NULL,
            rows_rejected BIGINT NOT NULL,
            rows_replaced BIGINT NOT NULL DEFAULT 0,
            replaces VARCHAR,            -- ingest ids whose rows this file replaced
            parser VARCHAR NOT NULL,     -- duckdb | python (fallback for malformed files)
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP NOT NULL,
            harmscope_version VARCHAR NOT NULL
        );

        CREATE TABLE rejects (
            ingest_id BIGINT NOT NULL,
            file VARCHAR NOT NULL,
            line BIGINT,
            reason VARCHAR NOT NULL,
            raw VARCHAR
        );

        CREATE TABLE street_crimes (
{_CRIME_PLACE}
            crime_type VARCHAR NOT NULL,
            last_outcome_category VARCHAR,
            context VARCHAR,
            lsoa11_code VARCHAR,
            lad_code VARCHAR,
            lad_name VARCHAR,
            ruc_class VARCHAR,
            urban_rural VARCHAR,
            imd_decile INTEGER,
            out_of_area BOOLEAN,
            placed_by VARCHAR,           -- lsoa_code | point | lsoa_name | NULL (unplaced)
            source_id BIGINT NOT NULL
        );

        CREATE TABLE outcomes (
{_CRIME_PLACE}
            outcome_type VARCHAR,
            source_id BIGINT NOT NULL
        );

        CREATE TABLE stop_searches (
            force VARCHAR NOT NULL,
            type VARCHAR,
            datetime TIMESTAMP NOT NULL,  -- UTC, as published (+00:00)
            part_of_a_policing_operation BOOLEAN,
            policing_operation VARCHAR,
            latitude DOUBLE,
            longitude DOUBLE,
            gender VARCHAR,
            age_range VARCHAR,
            self_defined_ethnicity VARCHAR,
            officer_defined_ethnicity VARCHAR,
            legislation VARCHAR,
            object_of_search VARCHAR,
            outcome VARCHAR,
            outcome_linked_to_object_of_search BOOLEAN,
            removal_of_more_than_just_outer_clothing BOOLEAN,
            month DATE NOT NULL,          -- the published file's month (police.uk's period)
            source_id BIGINT NOT NULL
        );

        -- Which ingest currently supplies each force x kind x month.
        CREATE TABLE partitions (
            kind VARCHAR NOT NULL,
            force VARCHAR NOT NULL,
            month DATE NOT NULL,
            ingest_id BIGINT NOT NULL,
            rows BIGINT NOT NULL,
            PRIMARY KEY (kind, force, month)
        );
        """
