"""Find personal identifiers wherever they are: free text, code columns, rejected rows.

What the screen finds (``find_identifiers``), each as a typed :class:`Finding`:

- ``nhs_number``: ten digits in any grouping and punctuation (spaces, dots, commas, dashes, 3-3-4,
  4-4-2, one digit at a time, mixed) that pass the modulus-11 check; also any ten digits written
  as one run or as 3-3-4, valid or not (a mistyped number still identifies someone);
- ``date_of_birth``: a full date (d/m/y with / . - or spaces, ISO, "3rd March 1998",
  "March 3, 1998") within a few words after a cue (DOB, D.O.B., date of birth, born, b.);
- ``date``: any other full date in free text (not applied to date columns, whose values are
  legitimately dates: ``kinds=`` leaves it out there);
- ``postcode``: a full UK postcode ("ME14 1XX", "me141xx"); an outward code alone is not one;
- ``phone``: UK numbers, 0 or +44 / 0044 then 9-10 digits, spaces, dots, dashes, brackets;
- ``email``;
- ``address``: a house number and a street ("12 Acacia Avenue", "Flat 3, 4 High St");
- ``name``: a title and the capitalised words after it ("Mr Smith", "DR JONES", "PC Dawson"), a label
  ("Name: X", "pt name x y", "NoK: X"), an introducer ("called X", "boyfriend X"), a given name
  on the packaged list followed by a capitalised word that is not a place word ("Kayleigh Ross"),
  a capitalised word followed by a surname on the list ("Kayden Okonkwo"), "SURNAME, Given".

The lists (``reference/data/names``): given names are the ONS baby-name tables for England and
Wales (OGL v3); surnames are a hand-made list of common British surnames (an estimate). Names
that are on neither list and come without a title, label or introducer are missed: this is a
screen, tuned to over-redact, not a guarantee. ``tests/data/identifier_probes.csv`` measures it.

Overlapping findings: the longer span wins, then the kind listed first in ``KINDS``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from harmscope.privacy.pseudonymise import nhs_check_digit

# Placeholders, one per kind. "[NHS NUMBER]" keeps the tag the ED tables already carry.
TAGS = {
    "email": "[EMAIL]",
    "nhs_number": "[NHS NUMBER]",
    "date_of_birth": "[DATE OF BIRTH]",
    "phone": "[PHONE]",
    "postcode": "[POSTCODE]",
    "address": "[ADDRESS]",
    "date": "[DATE]",
    "name": "[NAME]",
}
KINDS = tuple(TAGS)
DESCRIBE = {
    "email": "an e-mail address",
    "nhs_number": "an NHS number",
    "date_of_birth": "a date of birth",
    "phone": "a phone number",
    "postcode": "a full postcode",
    "address": "a street address",
    "date": "a full date",
    "name": "a person's name",
}
# Rejected rows keep at most this many characters of (screened) raw text and of reason.
MAX_REJECT_CHARS = 2000

NAMES_DIR = "names"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


# --- NHS numbers -----------------------------------------------------------------------------
# A chain of digit groups joined by 1-3 separator characters (spaces, dots, commas, dashes,
# slashes, underscores). Every window of whole groups holding exactly ten digits is tested.
_CHAIN = re.compile(r"\d+(?:[\s.,\-_/]{1,3}\d+)*")
_DIGIT_GROUP = re.compile(r"\d+")


def _nhs_valid(digits: str) -> bool:
    check = nhs_check_digit(digits[:9])
    return check is not None and check == int(digits[9])


def _find_nhs(text: str) -> list[tuple[Finding, bool]]:
    """(finding, strict): strict when written as NHS numbers are (one run of ten, or 3-3-4)."""
    out: list[tuple[Finding, bool]] = []
    for chain in _CHAIN.finditer(text):
        groups = [
            (m.start() + chain.start(), m.end() + chain.start(), m.group())
            for m in _DIGIT_GROUP.finditer(chain.group())
        ]
        if sum(len(g) for _, _, g in groups) < 10:
            continue
        covered_to = -1
        for i in range(len(groups)):
            total, j = 0, i
            while j < len(groups) and total < 10:
                total += len(groups[j][2])
                j += 1
            if total != 10:
                continue
            window = groups[i:j]
            digits = "".join(g for _, _, g in window)
            shape = [len(g) for _, _, g in window]
            # Valid anywhere; invalid too when written the way NHS numbers are (one run, 3-3-4).
            strict = shape in ([10], [3, 3, 4])
            if strict or _nhs_valid(digits):
                start, end = window[0][0], window[-1][1]
                if start >= covered_to:
                    out.append((Finding("nhs_number", start, end), strict))
                    covered_to = end
    return out


# --- dates -----------------------------------------------------------------------------------
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:(?:18|19|20)\d{2}|\d{2})"
_DATE = re.compile(
    rf"(?<![\d/.\-])(?:"
    rf"{_DAY}\s?[/.\-]\s?{_MON}\s?[/.\-]\s?{_YEAR}"  # 03/04/1998, 3.4.98, 03-04-1998
    rf"|{_DAY}\s{_MON}\s(?:18|19|20)\d{{2}}"  # 03 04 1998
    rf"|(?:18|19|20)\d{{2}}[\-/.]{_MON}[\-/.]{_DAY}"  # 1998-04-03
    rf"|{_DAY}(?:st|nd|rd|th)?[\s\-/]*(?:of\s+)?{_MONTHS}\.?,?[\s\-/]*'?(?:(?:18|19|20)\d{{2}}|\d{{2}})"
    rf"|{_MONTHS}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+(?:18|19|20)\d{{2}}"
    rf")(?![\d/])",
    re.IGNORECASE,
)
_DOB_CUE = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth\b|\bborn\b(?:\s+on)?|\bb\.(?=\s?\d)|\bbirth\s?date\b"
    r"|\bbirthday\b)",
    re.IGNORECASE,
)


def _find_dates(text: str, kinds: frozenset[str]) -> list[Finding]:
    out = []
    cues = [m.end() for m in _DOB_CUE.finditer(text)]
    for m in _DATE.finditer(text):
        cued = any(0 <= m.start() - c <= 25 for c in cues)
        kind = "date_of_birth" if cued else "date"
        if kind in kinds:
            out.append(Finding(kind, m.start(), m.end()))
    return out


# --- postcodes, phones, e-mail, addresses ----------------------------------------------------
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]?\s{0,2}\d[ABD-HJLNP-UW-Z]{2})"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|\(?0)\d(?:[\s.\-()]{0,2}\d){8,9}(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_STREET = (
    r"(?i:road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|gardens|gdns|"
    r"place|pl|court|ct|grove|terrace|terr|hill|park|walk|square|sq|mews|rise|view|parade|row|"
    r"green|vale|end|gate|wharf|meadow|meadows|fields|estate)"
)
_ADDRESS = re.compile(
    rf"(?:\b(?i:flat|apartment|apt|unit)\s*\d+[a-zA-Z]?,?\s+)?"
    rf"(?<![\d£$.,:])\b\d{{1,4}}[a-zA-Z]?,?\s+(?:[A-Z][A-Za-z'\-]+\s+){{1,3}}{_STREET}\b\.?"
)

# --- names -----------------------------------------------------------------------------------
_CAP = r"(?:[A-Z][a-z]+(?:['\-][A-Z]?[a-z]+)?|[A-Z]['\-]?[A-Z][a-z]+|Mc[A-Z][a-z]+|[A-Z]{2,}(?:['\-][A-Z]+)?)"
_TITLE = re.compile(
    rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Master|Sir|Dame|Prof|MR|MRS|MS|MISS|DR|PC|DC|PS|DS|Sgt|Insp)\.?\s+"
    rf"(?:[A-Z]\.?\s+)?{_CAP}(?:[\s\-]+{_CAP})?"
)
_LABEL = re.compile(
    r"\b(?:(?:patient|pt|full|first|last|sur|fore|given|family|maiden|christian)\s*)?"
    r"names?\s*(?:is|was|[:=\-])\s*",
    re.IGNORECASE,
)
_LABEL2 = re.compile(
    rf"\b(?i:nok|next of kin|assailant|attacker|suspect|perpetrator|victim|patient|pt|parent|"
    rf"carer|guardian|contact)\b\s*[:=\-]?\s*({_CAP}(?:\s+{_CAP})?)"
)
_LABEL_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_LABEL_STOP = frozenset(
    """and or was is at in on near outside by with the a an who punched hit kicked stabbed dob
    d.o.b nhs age aged born tel phone mob mobile address of from to not unknown withheld refused
    n/a na none given""".split()
)
_INTRO = re.compile(
    r"\b(?:called|named|name is|name was|known as|nicknamed|aka|a\.k\.a\.|my mate|his mate|"
    r"her mate|boyfriend|girlfriend|partner|husband|wife|ex|ex-partner|brother|sister|son|"
    r"daughter|cousin|friend|neighbour|uncle|aunt|stepdad|stepfather|stepmum|mum|dad|mother|"
    r"father)\s+(?:of\s+)?",
    re.IGNORECASE,
)
_STRONG_INTRO = re.compile(
    r"(?:called|named|name is|name was|known as|nicknamed|aka|a\.k\.a\.)\b", re.IGNORECASE
)
_CAPWORD = re.compile(r"[A-Z][a-z]+(?:['\-][A-Z]?[a-z]+)?|Mc[A-Z][a-z]+|O'[A-Z][a-z]+")
_WORD_OR_CAPS = re.compile(_CAPWORD.pattern + r"|\b[A-Z]{2,}\b")
_SURNAME_FIRST = re.compile(r"\b([A-Z]{2,}(?:['\-][A-Z]+)?),\s*([A-Z][a-z]+)\b")
_BY = re.compile(
    r"\b(?:by|with|from|and|told|hit|punched|kicked|stabbed|attacked|assaulted)\s+$", re.IGNORECASE
)

# Words that make a capitalised pair a place, a venue or a heading, not a person.
PLACE_WORDS = frozenset(
    """Arms Inn Tavern Hotel Bar Bars Club Street St Road Rd Lane Avenue Ave Square Park Court
    Close Way Hill Green House Centre Center Place Gardens Walk Head Station Stn School Church
    Bridge Row Parade Terrace Crescent Drive Grove Rise Mews View Wharf Quay Pier Harbour
    Beach Bay Castle Cathedral Abbey Priory Hall Hospital Surgery College University Academy
    Market Mall Shopping Retail Estate Industrial Leisure Sports Stadium Ground Common Heath
    Wood Woods Forest Fields Field Farm Manor Lodge Cottage Cottages Tower Towers Gate Gates
    Cross Corner End Bank Banks Valley Vale Meadow Meadows Marsh Downs Down Rock Cliff Cliffs
    Island Isle Sands Wells Well Lake Pond River Canal Dock Docks Dockyard Port Airport
    Cinema Theatre Library Museum Gallery Chapel Temple Mosque Centre Pool Gym Bowl Bowls
    Road Roads Town City Village North South East West Upper Lower Great Little Old New
    International Priory Junction Services Kebab Pizza Takeaway Chicken Cafe Café Restaurant
    Bistro Lounge Nightclub Pub Hotel Motel Garage Supermarket Store Stores Shop Shops Extra
    Express Metro Local Arcade Boulevard Broadway Circus Approach Hospital Ward Unit Block
    Flats Tower Precinct Plaza Mount Hythe Ashford Kent Medway Bus Rank Taxi Car Park Wall
    Chase Trees Garden Orchard Orchards Copse Shaw Dale Mead Waters Spinney Hollow Path Ridge
    Reach Holt Fold Croft Paddock Hurst Den Glade Leas Ley Link Loop Oval Yard""".split()
)
# Capitalised words that start a sentence or a place, never a given name before a surname.
_NOT_FORENAME = frozenset(
    """The A An At In On Near Outside Inside Behind Opposite By Of Off To From And Or But
    Hit Punched Kicked Stabbed Attacked Assaulted Found Seen Pt Patient Victim Ambulance
    Police Staff Security Door Bouncer Taxi Bus Train Home Flat Work School Town City Kent
    Medway Maidstone Canterbury Ashford Dover Deal Margate Ramsgate Broadstairs Folkestone
    Hythe Gravesend Dartford Swanley Sevenoaks Tonbridge Tunbridge Royal Chatham Gillingham
    Rochester Strood Sittingbourne Sheerness Faversham Whitstable Herne Tenterden Cranbrook
    Edenbridge Westerham Paddock Sandwich Minster Snodland Larkfield Aylesford Kings Queens
    St Saint Upper Lower Great Little Old New North South East West High Main Market Church
    Station Victoria Albert George Prince Princess Duke Lord Lady Rose Red White Black Green
    Golden Silver Royal Crown Castle Bridge Bell Star Swan Lion Bull Horse Ship Anchor Wheatsheaf
    Plough Fox Hare Hound Kings Queens Coach Railway Market Monday Tuesday Wednesday Thursday
    Friday Saturday Sunday January February March April May June July August September October
    November December Christmas Easter Tesco Asda Sainsbury Sainsburys Lidl Aldi Morrisons
    Wetherspoons Spoons McDonalds KFC Costa Greggs Boots Primark Bluewater Fremlin Westwood""".split()
)
# Given names that are also common words or places: only with a title, label or introducer.
_AMBIGUOUS_GIVEN = frozenset(
    """May June Rose Grace Joy Ivy Lily Daisy Hazel Heather Holly Faith Hope Summer Victoria
    Albert George Ruby Amber Jade Dawn Mark Will Bill Frank Guy Dean Don Olive Violet Iris
    Robin Chester Sky River Phoenix Star Brooke Harley Hunter Mercedes Jack Max Leo King Prince
    Major Rich Sonny Roman Angel Poppy Pearl Crystal Autumn Skye Sienna Florence Paris Kyle
    Austin Jordan Lincoln Stanley Sidney Georgia Carter Chase Cole Miles Reggie Ronnie Bobby""".split()
)


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """The packaged given-name list (ONS baby names, England and Wales; OGL v3)."""
    return frozenset(_read_names("given_names.csv"))


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """The packaged surname list (common British surnames, hand-made: an estimate)."""
    return frozenset(_read_names("surnames.csv"))


def _read_names(file: str) -> list[str]:
    from harmscope.reference._files import resolve

    path = resolve(f"{NAMES_DIR}/{file}")
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["name"].strip() for row in csv.DictReader(fh) if row.get("name")]


def _title(word: str) -> str:
    return word[:1].upper() + word[1:].lower() if word.isupper() else word


def _names_after_titles(text: str) -> list[Finding]:
    """'Mr John Smith': a title and the words after it, unless they name a place."""
    out = []
    for m in _TITLE.finditer(text):
        words = m.group().split()[1:]
        if any(_title(w) in PLACE_WORDS for w in words) or _possessive_place(text, m.end()):
            continue  # 'Sir John Moore Avenue', 'Dame Kelly Holmes Way'
        out.append(Finding("name", m.start(), m.end()))
    return out


def _names_after_labels(text: str) -> list[Finding]:
    """'Name: John Smith': up to three words after a label, stopping at a label stop word."""
    out = []
    for m in _LABEL.finditer(text):
        pos, first, last = m.end(), None, None
        for _ in range(3):
            w = _LABEL_WORD.match(text, pos)
            if not w or w.group().lower() in _LABEL_STOP:
                break
            first = w.start() if first is None else first
            last = w.end()
            gap = re.match(r"[ \t]+", text[last:])
            if not gap:
                break
            pos = last + gap.end()
        if first is not None:
            out.append(Finding("name", first, last))
    return out


def _names_after_label2(text: str, given, family) -> list[Finding]:
    out = []
    for m in _LABEL2.finditer(text):
        first = m.group(1).split()[0]
        if _title(first) in PLACE_WORDS:
            continue
        if first.isupper() and _title(first) not in given and _title(first) not in family:
            continue  # text in capitals: "PT STATES HIT..." is not a name

        out.append(Finding("name", m.start(1), m.end(1)))
    return out


def _names_after_introducers(text: str) -> list[Finding]:
    """'known as Kayleigh Ross': one or two capitalised words after an introducer."""
    out = []
    for m in _INTRO.finditer(text):
        rest = text[m.end() :]
        w = _CAPWORD.match(rest)
        strong = _STRONG_INTRO.match(m.group())
        if not w or (not strong and (w.group() in PLACE_WORDS or w.group() in _NOT_FORENAME)):
            continue
        end = m.end() + w.end()
        w2 = re.match(r"\s+(" + _CAPWORD.pattern + r")", rest[w.end() :])
        if w2 and (strong or w2.group(1) not in PLACE_WORDS):
            end += w2.end()
        if not strong and _possessive_place(text, m.end() + w.end()):
            continue
        out.append(Finding("name", m.end(), end))
    return out


def _pair_is_name(text: str, w: str, nxt: tuple[int, int, str], given, family) -> bool:
    """Two adjacent words: a known given name then a non-place, or a known surname after a
    word that is neither a place nor a non-forename; never a street named after someone."""
    w2 = nxt[2]
    if _possessive_place(text, nxt[1]):
        return False
    if w in given and w not in _AMBIGUOUS_GIVEN and w2 not in PLACE_WORDS:
        return True
    return (
        w2 in family and w2 not in PLACE_WORDS and w not in PLACE_WORDS and w not in _NOT_FORENAME
    )


def _names_from_words(text: str, given, family) -> list[Finding]:
    # Capitalised words; words in capitals ("KAYLEIGH ROSS") are compared title-cased.
    out = []
    words = [(w.start(), w.end(), _title(w.group())) for w in _WORD_OR_CAPS.finditer(text)]
    for k, (s, e, w) in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else None
        adjacent = nxt is not None and re.fullmatch(r"\s+", text[e : nxt[0]] or "x") is not None
        if adjacent and _pair_is_name(text, w, nxt, given, family):
            out.append(Finding("name", s, nxt[1]))
            continue
        # A lone given name right after "by", "with"...: "punched by Kayleigh".
        if w in given and w not in _AMBIGUOUS_GIVEN and _BY.search(text[max(0, s - 16) : s]):
            out.append(Finding("name", s, e))
    return out


def _find_names(text: str) -> list[Finding]:
    given, family = given_names(), surnames()
    out = _names_after_titles(text) + _names_after_labels(text)
    out += _names_after_label2(text, given, family)
    out += _names_after_introducers(text)
    out += _names_from_words(text, given, family)
    for m in _SURNAME_FIRST.finditer(text):
        if _title(m.group(1)) in family or m.group(2) in given:
            out.append(Finding("name", m.start(), m.end()))
    return out


def _possessive_place(text: str, end: int) -> bool:
    """'John Newington Close', 'James Smith Court': the words are a street named after someone
    (a place word follows, possibly after one more capitalised word)."""
    nxt = re.match(r"\s+(?:[A-Z][a-z]+\s+)?([A-Z][a-z]+)\b", text[end:])
    return bool(nxt and nxt.group(1) in PLACE_WORDS)


# --- the screen ------------------------------------------------------------------------------
def _find_long_numbers(text: str, want: frozenset[str]) -> list[Finding]:
    """NHS and phone numbers (ten digits or more), neither read off a date."""
    # A date (with a time after it) is not an NHS or phone number, even in a date column.
    dates = [(m.start(), m.end()) for m in _DATE.finditer(text)]

    def on_date(f: Finding) -> bool:
        return any(f.start < e and s < f.end for s, e in dates)

    found: list[Finding] = []
    if "nhs_number" in want:
        found += [f for f, strict in _find_nhs(text) if strict or not on_date(f)]
    if "phone" in want:
        phones = (Finding("phone", m.start(), m.end()) for m in _PHONE.finditer(text))
        found += [f for f in phones if not on_date(f)]
    return found


def _find_with_digits(text: str, want: frozenset[str]) -> list[Finding]:
    """Every kind that needs digits, each tried only when the text holds enough of them."""
    ndigits = sum(c.isdigit() for c in text)
    found: list[Finding] = []
    if ndigits >= 10 and want & {"nhs_number", "phone"}:
        found += _find_long_numbers(text, want)
    if ndigits >= 4 and want & {"date", "date_of_birth"}:
        found += _find_dates(text, want)
    if ndigits and "postcode" in want:
        found += [Finding("postcode", m.start(), m.end()) for m in _POSTCODE.finditer(text)]
    if ndigits and "address" in want:
        found += [Finding("address", m.start(), m.end()) for m in _ADDRESS.finditer(text)]
    return found


def _non_overlapping(found: list[Finding]) -> list[Finding]:
    """The longest findings first (ties: kind order, then position), none overlapping."""
    rank = {k: i for i, k in enumerate(KINDS)}
    found.sort(key=lambda f: (-(f.end - f.start), rank[f.kind], f.start))
    chosen: list[Finding] = []
    for f in found:
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def find_identifiers(text: str | None, *, kinds=None) -> list[Finding]:
    """Every identifier found in ``text`` (restricted to ``kinds``), non-overlapping, in order."""
    if not text:
        return []
    want = frozenset(KINDS if kinds is None else kinds)
    found: list[Finding] = []
    if "email" in want and "@" in text:
        found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += _find_with_digits(text, want)
    if "name" in want and (any(c.isupper() for c in text) or "name" in text.lower()):
        found += _find_names(text)
    return _non_overlapping(found)


# Texts the screen found clean, per set of kinds: ED free text and codes repeat a lot ("taxi
# rank, Chatham"). Only clean text is remembered, so the cache never holds an identifier.
_CLEAN: dict[tuple[str, ...] | None, set[str]] = {}
_CLEAN_MAX = 1 << 16


def redact(text: str | None, *, kinds=None) -> tuple[str | None, int]:
    """(text with each finding replaced by its placeholder, number replaced)."""
    if not text:
        return text, 0
    key = None if kinds is None else tuple(kinds)
    clean = _CLEAN.setdefault(key, set())
    if text in clean:
        return text, 0
    found = find_identifiers(text, kinds=kinds)
    if not found:
        if len(clean) < _CLEAN_MAX:
            clean.add(text)
        return text, 0
    parts, pos = [], 0
    for f in found:
        parts.append(text[pos : f.start])
        parts.append(TAGS[f.kind])
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), len(found)


def identifier_kinds(text: str | None, *, kinds=None) -> list[str]:
    """The kinds found in ``text`` (each once, in KINDS order)."""
    got = {f.kind for f in find_identifiers(text, kinds=kinds)}
    return [k for k in KINDS if k in got]


def code_kinds(column: str) -> tuple[str, ...]:
    """The kinds screened in a structured (code) column: a postcode is legitimate in the
    postcode column and a date in a date column; anything else found means the row is wrong."""
    drop = set()
    if column == "postcode":
        drop.add("postcode")
    if column.endswith(("_datetime", "_date")) or column in ("date", "month"):
        drop |= {"date", "date_of_birth"}
    return tuple(k for k in KINDS if k not in drop)


def quarantine_reason(column: str, value: str | None) -> str | None:
    """A reject reason (never containing the value) when a code column holds an identifier."""
    kinds = code_kinds(column)
    if not value or value in _CLEAN.get(kinds, ()):
        return None
    found = identifier_kinds(value, kinds=kinds)
    if not found:
        clean = _CLEAN.setdefault(kinds, set())
        if len(clean) < _CLEAN_MAX:
            clean.add(value)
        return None
    if not found:
        return None
    what = " and ".join(DESCRIBE[k] for k in found)
    return f"{column} holds what looks like {what} (row quarantined; the value is not stored)"


def screen_reject_text(text: str | None, *, cap: int = MAX_REJECT_CHARS, kinds=None) -> str:
    """Screened text for the ``rejects`` table and ingest reports, cut to ``cap`` characters.

    The text is screened before it is cut, so a cut never splits an identifier into a part the
    screen would miss; the cut is marked with an ellipsis.
    """
    out, _ = redact(text or "", kinds=kinds)
    out = out or ""
    if len(out) > cap:
        out = out[: cap - 1] + "…"
    return out


# Dates in a raw line of public data (a stop-and-search time) are not identifiers on their own:
# only a date near a birth cue is.
RAW_LINE_KINDS = tuple(k for k in KINDS if k != "date")


def screen_raw_line(text: str | None, *, cap: int = MAX_REJECT_CHARS) -> str:
    """:func:`screen_reject_text` for a raw line of police open data (bare dates kept)."""
    return screen_reject_text(text, cap=cap, kinds=RAW_LINE_KINDS)
