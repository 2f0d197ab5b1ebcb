"""ED assault records (ISTV minimum dataset, pseudonymised), a linkable police-victim set, and
the audit log of every ED export.

No column here ever holds a raw patient identifier: ``pseudonym`` is a keyed HMAC-SHA256 made
on ingest, free text is redacted before it is written, and postcodes are cut to their
outward code (data minimisation: the full postcode is only used, in memory, to place a row).
Rejected ED rows go to the shared ``rejects`` table with the identifier redacted.
"""

VERSION = 4
DESCRIPTION = "ED assaults (pseudonymised), linkable police victims, audit log"
SQL = """
        CREATE TABLE ed_assaults (
            source_id BIGINT NOT NULL,      -- ingests.ingest_id
            line BIGINT NOT NULL,           -- line in the source file
            record_key VARCHAR NOT NULL,    -- keyed HMAC of the whole record, for duplicates
            pseudonym VARCHAR,              -- HMAC-SHA256(key, normalised NHS number); NULL if absent
            site_code VARCHAR NOT NULL,
            arrival_at TIMESTAMP,
            assault_at TIMESTAMP,           -- NULL when the assault time was not recorded
            assault_date DATE NOT NULL,     -- assault date, else arrival date
            month DATE NOT NULL,            -- first day of assault_date's month
            time_source VARCHAR,            -- assault | arrival | NULL (no usable time of day)
            weapon_code VARCHAR NOT NULL,
            weapon_text VARCHAR,            -- redacted free text
            location_type VARCHAR NOT NULL,
            location_desc VARCHAR,          -- redacted free text
            postcode_district VARCHAR,      -- outward code only
            longitude DOUBLE,
            latitude DOUBLE,
            lsoa11_code VARCHAR,
            lad_code VARCHAR,
            lad_name VARCHAR,
            place_name VARCHAR,             -- matched venue / town centre, when placed by text
            place_score DOUBLE,             -- fuzzy-match score 0-100 for text placements
            placed_by VARCHAR,              -- coordinates | postcode | lsoa | gazetteer | town_centre | NULL
            unplaced_reason VARCHAR,
            age_band VARCHAR,
            sex VARCHAR,
            redactions INTEGER NOT NULL DEFAULT 0,
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );

        -- A partner's victim extract pseudonymised with the same key, for capture-recapture.
        CREATE TABLE police_victims (
            source_id BIGINT NOT NULL,
            line BIGINT NOT NULL,
            pseudonym VARCHAR NOT NULL,
            offence_date DATE NOT NULL,
            lad_code VARCHAR,
            synthetic BOOLEAN NOT NULL DEFAULT FALSE
        );

        CREATE SEQUENCE IF NOT EXISTS audit_id_seq START 1;

        CREATE TABLE audit_log (
            audit_id BIGINT PRIMARY KEY,
            logged_at TIMESTAMP NOT NULL,   -- UTC
            who VARCHAR NOT NULL,
            audience VARCHAR NOT NULL,      -- internal | partner | public
            action VARCHAR NOT NULL,        -- export | report | picture
            what VARCHAR NOT NULL,          -- plain description of the output
            query VARCHAR NOT NULL,         -- the SQL / parameters that produced it
            rows BIGINT,
            suppressed BIGINT,
            output VARCHAR                  -- file written, if any
        );
        """
