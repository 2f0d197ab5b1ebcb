"""Redact things that look like personal identifiers from free text before it is stored.

Rules (applied in this order, each match replaced by a tag):

- UK phone numbers: ``0`` or ``+44`` then 9-10 more digits, spaces/dashes/brackets allowed;
- NHS-number-like runs: any 10 digits as 3-3-4 with optional spaces or dashes, whether or not
  the check digit is valid (a mistyped number still identifies someone);
- e-mail addresses;
- names: a title (Mr, Mrs, Ms, Miss, Dr, Mx) and the capitalised words after it; a capitalised
  word or two after an introducer ("called", "named", "known as", "my mate", "boyfriend"...);
  a common given name followed by a capitalised surname.

This is a screen, not a guarantee: it is tuned to over-redact (venue names that start with a
given name and a capitalised word, such as "Jack Straw", lose them). Placement matches the
unredacted text in memory, so redaction does not cost placement.
"""

from __future__ import annotations

import re

PHONE_TAG = "[PHONE]"
NHS_TAG = "[NHS NUMBER]"
EMAIL_TAG = "[EMAIL]"
NAME_TAG = "[NAME]"

_PHONE = re.compile(r"(?<![\d+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d(?:[\s\-()]?\d){8,9}(?!\d)")
_NHS = re.compile(r"(?<!\d)\d{3}[\s-]?\d{3}[\s-]?\d{4}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CAP = r"[A-Z][a-z'\-]+"
_TITLE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+{_CAP}(?:\s+{_CAP})?")
_INTRO = re.compile(
    rf"\b((?:called|named|name is|name was|known as|nicknamed|my mate|his mate|her mate|"
    rf"boyfriend|girlfriend|partner|husband|wife|ex|brother|sister|son|daughter|cousin|"
    rf"friend|neighbour)\s+)({_CAP}(?:\s+{_CAP})?)",
    re.IGNORECASE,
)
# Common given names in England and Wales (a screen, compiled by hand; not exhaustive).
_GIVEN = (
    "Adam Aaron Abdul Adrian Aidan Alan Albert Alex Alexander Alfie Ali Amelia Amy Andrew "
    "Andy Ann Anna Anne Archie Arthur Ashley Barry Ben Benjamin Bethany Bill Billy Bob Brian "
    "Callum Carl Caroline Charlie Charlotte Chloe Chris Christopher Claire Colin Connor Craig "
    "Daniel Danny Darren Dave David Dean Deborah Dylan Ed Edward Eleanor Elizabeth Ella Ellie "
    "Emily Emma Ethan Freddie Gary George Georgia Grace Graham Harry Hannah Harvey Helen Henry "
    "Ian Isaac Isabella Isla Jack Jacob Jade Jake James Jamie Jane Jason Jay Jessica Jim Joe "
    "John Jonathan Jordan Joseph Josh Joshua Julie Karen Kate Katie Kayleigh Keith Kelly Kevin "
    "Kieran Kyle Laura Lauren Lee Leo Lewis Liam Lily Louise Lucy Luke Mark Martin Mason Matt "
    "Matthew Megan Michael Michelle Mike Mohammed Muhammad Natalie Nathan Neil Nicola Nick "
    "Noah Oliver Olivia Oscar Paul Peter Phil Rachel Rebecca Reece Rhys Richard Rob Robert "
    "Ryan Sam Samuel Sarah Scott Sean Shane Sharon Sophie Stephen Steve Steven Stuart Susan "
    "Terry Thomas Tom Tony Tyler Vicky Wayne William Zoe"
).split()
# Words that make a "given name + capitalised word" a venue or a street, not a person.
_PLACE_WORDS = {
    "Arms",
    "Inn",
    "Tavern",
    "Hotel",
    "Bar",
    "Club",
    "Street",
    "St",
    "Road",
    "Rd",
    "Lane",
    "Avenue",
    "Square",
    "Park",
    "Court",
    "Close",
    "Way",
    "Hill",
    "Green",
    "House",
    "Centre",
    "Place",
    "Gardens",
    "Walk",
    "Head",
    "Station",
    "School",
    "Church",
    "Bridge",
    "Row",
}
_GIVEN_SURNAME = re.compile(rf"\b(?:{'|'.join(_GIVEN)})\s+({_CAP})\b")


def _name_pair(match: re.Match) -> str:
    return match.group(0) if match.group(1) in _PLACE_WORDS else NAME_TAG


def redact_text(text: str | None) -> tuple[str | None, int]:
    """Return (redacted text, number of redactions). None and '' pass through unchanged."""
    if not text:
        return text, 0
    count = 0

    def sub(pattern: re.Pattern, repl, value: str) -> str:
        nonlocal count
        value, n = pattern.subn(repl, value)
        count += n
        return value

    out = sub(_EMAIL, EMAIL_TAG, text)
    out = sub(_PHONE, PHONE_TAG, out)
    out = sub(_NHS, NHS_TAG, out)
    out = sub(_TITLE, NAME_TAG, out)
    out = sub(_INTRO, lambda m: m.group(1) + NAME_TAG, out)
    before = out.count(NAME_TAG)
    out = _GIVEN_SURNAME.sub(_name_pair, out)
    count += out.count(NAME_TAG) - before
    return out, count


def redact_digits(text: str, secrets: list[str]) -> str:
    """Remove each exact identifier in ``secrets`` (and its digit-only form) from ``text``.

    Used on a rejected row's raw line, where the identifier column may hold anything.
    """
    out = text
    for secret in secrets:
        s = (secret or "").strip()
        if len(s) >= 3:
            out = out.replace(s, NHS_TAG)
    return sub_any_identifier(out)


def sub_any_identifier(text: str) -> str:
    """Belt and braces: any remaining NHS-number-like or phone-like run is masked too."""
    return _NHS.sub(NHS_TAG, _PHONE.sub(PHONE_TAG, text))
