"""Keyed pseudonyms for person identifiers (HMAC-SHA256), and NHS number checks.

The key comes from ``HARMSCOPE_KEY`` or a key file and is never stored. Without the key a
pseudonym cannot be reversed or recomputed (unlike a plain hash of a 10-digit number, which
a dictionary attack breaks in seconds), and the same key on both sides of a data share makes
the pseudonyms linkable.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import string
from pathlib import Path

from harmscope.errors import HarmscopeError

KEY_ENV = "HARMSCOPE_KEY"
MIN_KEY_BYTES = 16
MIN_KEY_BITS = 128
MAKE_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'
_HEX = set(string.hexdigits)
_BASE64 = set(string.ascii_letters + string.digits + "+/=_-")
_PRINTABLE = set(string.printable) - set(string.whitespace)
_NON_DIGIT = re.compile(r"[\s-]")

# NHS England reserves 999 000 0000 to 999 999 9999 for testing: valid check digits, never
# issued (NHS Digital, "Synthetic data in live environments", naming convention).
TEST_RANGE = (9_990_000_000, 9_999_999_999)


def load_key(key_file: str | os.PathLike | None = None) -> bytes:
    """The pseudonymisation key: ``--key-file`` wins, then ``HARMSCOPE_KEY``.

    Raises HarmscopeError when neither is set or the key is too short to be secret.
    """
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise HarmscopeError(
                "key file not found",
                where=f"--key-file {path}",
                fix="pass the path of the partnership's pseudonymisation key file",
            )
        key = path.read_bytes().strip()
        where = f"--key-file {path}"
    else:
        env = os.environ.get(KEY_ENV, "")
        if not env:
            raise HarmscopeError(
                "no pseudonymisation key: ED data is never loaded without one",
                where=f"{KEY_ENV} / --key-file",
                fix=f"set {KEY_ENV} or pass --key-file with the partnership's secret key "
                f"(random, at least 32 hex characters: make one with `{MAKE_KEY}`; kept out "
                "of the store and out of version control)",
            )
        key = env.strip().encode("utf-8")
        where = KEY_ENV
    check_key_strength(key, where)
    return key


def key_entropy_bits(key: bytes) -> float:
    """An upper estimate of a key's entropy: length x bits per character of the smallest
    character class it uses (hex 4, base64/alphanumeric 6, printable ASCII 6.55, other bytes 8).

    It is what the key *could* hold if every character were random; :func:`key_weakness`
    separately rejects keys whose characters visibly are not.
    """
    chars = {chr(b) for b in key}
    if chars <= _HEX:
        per = 4.0
    elif chars <= _BASE64:
        per = 6.0
    elif chars <= _PRINTABLE:
        per = math.log2(len(_PRINTABLE))
    else:
        per = 8.0
    return len(key) * per


def key_weakness(key: bytes) -> str | None:
    """Why the key is not random enough, or None. The rule (documented in ed/README.md):

    - it must be at least 16 bytes and carry an estimated 128 bits (:func:`key_entropy_bits`):
      32 hex characters, 22 base64 characters, 20 printable characters or 16 random bytes;
    - fewer than 8 different characters, one character making up more than half of the key,
      a key that is a shorter block repeated, or a key mostly of steps of one
      ('abcdef...', '0123...') are rejected whatever the length. A random key of 32 hex
      characters or more fails these with a probability below one in a million.
    """
    n = len(key)
    if n < MIN_KEY_BYTES:
        return f"the key is {n} bytes; at least {MIN_KEY_BYTES} are needed"
    bits = key_entropy_bits(key)
    if bits < MIN_KEY_BITS:
        return (
            f"the key holds at most about {bits:.0f} bits of entropy ({n} characters of its "
            f"kind); at least {MIN_KEY_BITS} are needed (32 hex characters or 16 random bytes)"
        )
    distinct = len(set(key))
    if distinct < 8:
        return f"the key uses only {distinct} different characters: it is not random"
    top = max(key.count(b) for b in set(key))
    if top * 2 > n:
        return f"one character makes up {top} of the key's {n}: it is not random"
    for unit in range(1, n // 2 + 1):
        if n % unit == 0 and key == key[:unit] * (n // unit):
            return f"the key is a block of {unit} characters repeated: it is not random"
    steps = sum(abs(a - b) == 1 for a, b in zip(key, key[1:], strict=False))
    if steps * 2 > n - 1:
        return "the key is mostly a run of consecutive characters (like 'abcd' or '1234'): it is not random"
    return None


def check_key_strength(key: bytes, where: str = "key") -> None:
    """Raise HarmscopeError (saying how to make a good key) when the key is weak."""
    why = key_weakness(key)
    if why is not None:
        raise HarmscopeError(
            why,
            where=where,
            fix=f"make a random key with `{MAKE_KEY}` (64 hex characters, 256 bits), keep it "
            f"in a key file or {KEY_ENV}, outside the store and out of version control",
        )


def normalise_nhs_number(value: str) -> str:
    """Digits only (spaces and dashes dropped), so '943 476 5919' and '9434765919' agree."""
    return _NON_DIGIT.sub("", value or "")


def nhs_check_digit(first9: str) -> int | None:
    """Modulus-11 check digit for the first nine digits; None when the number cannot be valid.

    Weights 10..2; check = 11 - (sum mod 11); 11 becomes 0 and 10 means invalid
    (NHS Data Dictionary, NHS NUMBER).
    """
    if len(first9) != 9 or not first9.isdigit():
        return None
    total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = nhs_check_digit(digits[:9])
    return check is not None and check == int(digits[9])


def is_test_nhs_number(value: str) -> bool:
    """True for a valid number in the range reserved for testing (never issued to a person)."""
    digits = normalise_nhs_number(value)
    return is_valid_nhs_number(digits) and TEST_RANGE[0] <= int(digits) <= TEST_RANGE[1]


class Pseudonymiser:
    """HMAC-SHA256 of normalised identifiers under one key (the key stays in memory only)."""

    def __init__(self, key: bytes):
        check_key_strength(key, "key")
        self._key = key

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return "Pseudonymiser(key=<hidden>)"

    def __call__(self, identifier: str) -> str:
        digits = normalise_nhs_number(identifier)
        return hmac.new(self._key, digits.encode("ascii", "ignore"), hashlib.sha256).hexdigest()
