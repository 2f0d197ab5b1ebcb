"""Redact personal identifiers from free text before it is stored.

The screen itself lives in :mod:`harmscope.privacy.identifiers` (NHS numbers in any grouping,
dates of birth, postcodes, phone numbers, e-mail addresses, street addresses, names); this
module keeps the names the rest of the code base uses. Each match is replaced by a typed tag
such as ``[NHS NUMBER]``, ``[POSTCODE]`` or ``[NAME]``.

This is a screen, not a guarantee: it is tuned to over-redact (a venue named after a person,
such as "Jack Straw", may lose its name). Placement matches the unredacted text in memory, so
redaction does not cost placement.
"""

from __future__ import annotations

from harmscope.privacy.identifiers import TAGS, redact, screen_reject_text

PHONE_TAG = TAGS["phone"]
NHS_TAG = TAGS["nhs_number"]
EMAIL_TAG = TAGS["email"]
NAME_TAG = TAGS["name"]
POSTCODE_TAG = TAGS["postcode"]
DOB_TAG = TAGS["date_of_birth"]
DATE_TAG = TAGS["date"]
ADDRESS_TAG = TAGS["address"]


def redact_text(text: str | None) -> tuple[str | None, int]:
    """Return (redacted text, number of redactions). None and '' pass through unchanged."""
    return redact(text)


def redact_digits(text: str, secrets: list[str]) -> str:
    """Remove each exact identifier in ``secrets`` from ``text``, then screen what is left.

    Used on a rejected row's raw line, where the identifier column may hold anything.
    """
    out = text
    for secret in secrets:
        s = (secret or "").strip()
        if len(s) >= 3:
            out = out.replace(s, NHS_TAG)
    return sub_any_identifier(out)


def sub_any_identifier(text: str) -> str:
    """Belt and braces: mask every identifier the screen finds (rejects, reasons, messages),
    capped at :data:`harmscope.privacy.identifiers.MAX_REJECT_CHARS` characters."""
    return screen_reject_text(text)
