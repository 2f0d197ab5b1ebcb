"""Partition history: every write of a force x kind x month, so a month can never shrink unseen.

``partitions`` says which ingest supplies a month *now*; ``partition_history`` keeps one row
per write, so the largest number of rows a month has ever held (its peak) survives a
replacement. Ingest refuses to replace a month with fewer rows than its peak unless asked
(``--allow-shrink``), and then records that it was asked (``shrink_allowed``).
"""

VERSION = 5
DESCRIPTION = "partition history (peak rows per month, allowed shrinks)"
SQL = """
        CREATE TABLE partition_history (
            ingest_id BIGINT NOT NULL,       -- the ingest that wrote this month
            kind VARCHAR NOT NULL,
            force VARCHAR NOT NULL,
            month DATE NOT NULL,
            rows BIGINT NOT NULL,            -- rows the month held after this write
            previous_rows BIGINT,            -- rows it held before (NULL: new month)
            peak_rows BIGINT NOT NULL,       -- largest ever held before this write
            shrink_allowed BOOLEAN NOT NULL DEFAULT FALSE,  -- rows < peak, by --allow-shrink
            written_at TIMESTAMP NOT NULL
        );

        -- Stores made before this migration: what each month holds now is its known history.
        INSERT INTO partition_history
        SELECT ingest_id, kind, force, month, rows, NULL, rows, FALSE, now()::TIMESTAMP
        FROM partitions;
        """
