"""Keyed pseudonyms for person identifiers (HMAC-SHA256), and NHS number checks.

The key comes from ``HARMSCOPE_KEY`` or a key file and is never stored. Without the key a
pseudonym cannot be reversed or recomputed (unlike a plain hash of a 10-digit number, which
a dictionary attack breaks in seconds), and the same key on both sides of a data share makes
the pseudonyms linkable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

from harmscope.errors import HarmscopeError

KEY_ENV = "HARMSCOPE_KEY"
MIN_KEY_BYTES = 16
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
                "(at least 16 characters, kept out of the store and out of version control)",
            )
        key = env.strip().encode("utf-8")
        where = KEY_ENV
    if len(key) < MIN_KEY_BYTES:
        raise HarmscopeError(
            f"the key is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed",
            where=where,
            fix="use a longer random key, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    return key


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
        if len(key) < MIN_KEY_BYTES:
            raise HarmscopeError(
                f"the key is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed",
                where="key",
                fix="use a longer random key",
            )
        self._key = key

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return "Pseudonymiser(key=<hidden>)"

    def __call__(self, identifier: str) -> str:
        digits = normalise_nhs_number(identifier)
        return hmac.new(self._key, digits.encode("ascii", "ignore"), hashlib.sha256).hexdigest()
