"""Person-level police records from a force recorded-crime extract (sources/crime_extract.py).

No column holds a raw identifier: ``crime_key`` and ``pseudonym`` are keyed HMAC-SHA256
pseudonyms made at the door with the partnership key (the one ED ingest uses, so a person
links across ED, police and later extracts). Both tables are internal-only in the ``harmscope
sql`` sandbox (``store/sandbox.py`` SENSITIVE_TABLES). Rejected rows go to ``rejects`` with
identifiers replaced by tags.
"""

VERSION = 6
DESCRIPTION = "Crime extract: crimes and persons_in_crimes (pseudonymised)"
SQL = """
        CREATE TABLE crimes (
            source_id BIGINT NOT NULL,      -- ingests.ingest_id
            line BIGINT,                    -- line in the source file
            crime_key VARCHAR NOT NULL,     -- HMAC-SHA256(key, 'crime:' + crime reference)
            offence_code VARCHAR NOT NULL,  -- Home Office offence code (packaged table)
            recorded_date DATE NOT NULL,
            committed_from TIMESTAMP NOT NULL,
            committed_to TIMESTAMP,         -- NULL when the time is known exactly
            month DATE NOT NULL,            -- first day of committed_from's month
            longitude DOUBLE,
            latitude DOUBLE,
            lsoa_code VARCHAR,
            domestic_abuse BOOLEAN,
            knife BOOLEAN,                  -- knife or sharp instrument used or threatened
            injury_level VARCHAR,           -- none | minor | serious | fatal | NULL
            outcome_type VARCHAR,           -- Home Office outcome type number
            outcome_date DATE,
            exploitation BOOLEAN,           -- exploitation / county lines flag
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );

        CREATE TABLE persons_in_crimes (
            source_id BIGINT NOT NULL,
            crime_key VARCHAR NOT NULL,
            pseudonym VARCHAR NOT NULL,     -- HMAC-SHA256(key, person identifier), as ED
            role VARCHAR NOT NULL,          -- victim | offender
            age INTEGER,                    -- age at the offence
            sex VARCHAR,                    -- male | female | other | NULL
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );
        """
