"""Intervention register: one row per scheme, as validated by harmscope.sources.register."""

VERSION = 3
DESCRIPTION = "intervention register (schemes, their areas, dates, cost and target outcomes)"
SQL = """
        CREATE TABLE interventions (
            name VARCHAR PRIMARY KEY,        -- unique within a store; re-loading replaces it
            provider VARCHAR NOT NULL,
            area_kind VARCHAR NOT NULL,      -- lsoas | districts | point | countywide
            areas VARCHAR NOT NULL,          -- JSON of the areas block as written in the register
            force VARCHAR NOT NULL,          -- police force whose data cover the areas
            start_month DATE,                -- NULL: not known (never invented)
            end_month DATE,
            cost_gbp DOUBLE,
            strand VARCHAR NOT NULL,         -- prevention | engagement and education | enforcement | rehabilitation
            crime_types VARCHAR NOT NULL,    -- JSON list of police.uk categories
            harm_outcome BOOLEAN NOT NULL,   -- also judge the scheme on severity-weighted harm
            target_group VARCHAR,
            selected_for_high_counts BOOLEAN NOT NULL DEFAULT false,
            notes VARCHAR,
            source_file VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL
        );
        """
