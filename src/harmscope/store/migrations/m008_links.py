"""Network links for county-lines analysis (sources/links.py, analysis/networks/).

One row per recorded link between two entities. No column holds a raw identifier: person,
phone and address keys are keyed HMAC-SHA256 pseudonyms made at the door with the partnership
key (a person's key equals the ``persons.pseudonym`` the crime extract and ED ingest make for
the same identifier, so links join to people). Places and areas (stations, towns, force areas)
are not personal and keep their names in ``link_entities.label``. Both tables are
internal-only in the ``harmscope sql`` sandbox (``store/sandbox.py`` SENSITIVE_TABLES).
"""

VERSION = 8
DESCRIPTION = "County-lines network links and entities (pseudonymised)"
SQL = """
        CREATE TABLE links (
            source_id BIGINT NOT NULL,      -- ingests.ingest_id (or the crime extract's)
            line BIGINT,                    -- line in the source file (NULL when derived)
            source_key VARCHAR NOT NULL,    -- entity key (pseudonym, or place/area key)
            source_type VARCHAR NOT NULL,   -- person | phone | address | place | area
            target_key VARCHAR NOT NULL,
            target_type VARCHAR NOT NULL,
            link_type VARCHAR NOT NULL,     -- co_offending | association | uses_phone |
                                            -- resident | visits_address | visits_place |
                                            -- line_area
            first_seen DATE,
            last_seen DATE,
            agency VARCHAR,                 -- who holds the link (police, BTP, council, ...)
            confidence VARCHAR,             -- grade as supplied (e.g. 3x5x2 'B2'), NULL if none
            derived_from VARCHAR,           -- NULL, or 'crime_extract' for shared crime refs
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );

        CREATE TABLE link_entities (
            entity_key VARCHAR NOT NULL,    -- as links.source_key / target_key
            entity_type VARCHAR NOT NULL,
            age INTEGER,                    -- persons: age in years at last link seen
            supply_offence BOOLEAN,         -- persons: a drug supply offence recorded
            vulnerable BOOLEAN,             -- persons/addresses: vulnerable resident flag
            out_of_area BOOLEAN,            -- based outside the force area
            label VARCHAR,                  -- places and areas only; never for persons,
                                            -- phones or addresses
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );
        """
