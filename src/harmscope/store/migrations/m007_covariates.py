"""Covariates: area x period series a partnership brings (officer FTE, youth service spend...).

``covariates`` holds one row per named series (its unit, source and the file it came from);
``covariate_values`` one row per area and period. A series is replaced whole, never merged,
so a corrected file cannot leave old periods behind.
"""

VERSION = 7
DESCRIPTION = "covariates (named area x period series with unit and source)"
SQL = """
        CREATE TABLE covariates (
            name VARCHAR PRIMARY KEY,        -- e.g. officers_fte
            unit VARCHAR NOT NULL,           -- e.g. FTE, GBP, per 100,000
            source VARCHAR NOT NULL,         -- where the figures come from (publisher, table, date)
            area_level VARCHAR NOT NULL,     -- force | csp | district
            period_kind VARCHAR NOT NULL,    -- year | financial_year | month
            file VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            rows BIGINT NOT NULL,
            synthetic BOOLEAN NOT NULL DEFAULT FALSE,
            loaded_at TIMESTAMP NOT NULL
        );
        CREATE TABLE covariate_values (
            name VARCHAR NOT NULL,
            area_code VARCHAR NOT NULL,      -- force name, CSP name or district (LAD) GSS code
            area_name VARCHAR NOT NULL,
            period VARCHAR NOT NULL,         -- as written in the file, normalised: 2019, 2018/19, 2019-03
            period_start DATE NOT NULL,      -- first day of the period (financial years start 1 April)
            value DOUBLE NOT NULL,
            line BIGINT NOT NULL,            -- line in the source file
            PRIMARY KEY (name, area_code, period)
        );
        """
