"""Evidence link of a scheme (issue 17, item 4): the toolkit strand the register names.

A JSON object ``{"toolkit": "yef", "strand": "mentoring"}`` (see
``reference/data/evidence/toolkit.csv``), NULL when the register gives none.
"""

VERSION = 9
DESCRIPTION = "intervention register: evidence link to a published toolkit strand"
SQL = """
        ALTER TABLE interventions ADD COLUMN evidence VARCHAR;
        """
