"""Person-level police records from a force recorded-crime extract (sources/crime_extract.py).

No column holds a raw identifier: ``crime_key`` and ``pseudonym`` are keyed HMAC-SHA256
pseudonyms made at the door with the partnership key (the one ED ingest uses, so a person
links across ED, police and later extracts). A person's pseudonym is stored once, in
``persons``, and a crime's key once, in ``crimes``; ``persons_in_crimes`` holds the store-local
integers ``crime_id`` and ``person_id`` (a million-crime extract writes ~1.6 million person
rows: integers, not 64-character strings, keep that write and every join and per-person
GROUP BY cheap). All three tables are internal-only in the ``harmscope
sql`` sandbox (``store/sandbox.py`` SENSITIVE_TABLES). Rejected rows go to ``rejects`` with
identifiers replaced by tags.
"""

VERSION = 6
DESCRIPTION = "Crime extract: crimes, persons and persons_in_crimes (pseudonymised)"
SQL = """
        CREATE TABLE crimes (
            source_id BIGINT NOT NULL,      -- ingests.ingest_id
            crime_id BIGINT NOT NULL,       -- store-local number (persons_in_crimes joins on it)
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

        CREATE TABLE persons (
            person_id INTEGER NOT NULL,     -- store-local number, never shown outside the store
            pseudonym VARCHAR NOT NULL      -- HMAC-SHA256(key, person identifier), as ED
        );

        CREATE TABLE persons_in_crimes (
            source_id BIGINT NOT NULL,
            crime_id BIGINT NOT NULL,       -- crimes.crime_id
            person_id INTEGER NOT NULL,     -- persons.person_id
            role VARCHAR NOT NULL,          -- victim | offender
            age INTEGER,                    -- age at the offence
            sex VARCHAR,                    -- male | female | other | NULL
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );
        """
