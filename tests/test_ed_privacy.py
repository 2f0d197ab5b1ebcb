"""Pseudonymisation, NHS number checks, redaction and key handling for ED data."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmscope.errors import HarmscopeError
from harmscope.privacy.pseudonymise import (
    Pseudonymiser,
    is_test_nhs_number,
    is_valid_nhs_number,
    load_key,
    nhs_check_digit,
)
from harmscope.privacy.redact import NAME_TAG, NHS_TAG, PHONE_TAG, redact_text
from harmscope.simulate.ed import _nhs_numbers

KEY = b"b1e8ae26a2452753168b860fd1ff7d3d3236f1a9a6532f83b196780b4edfe258"  # a random key


def test_check_digit_matches_the_published_example():
    # NHS Data Dictionary worked example: 943 476 5919 (weights 10..2, sum 299, 299 mod 11 = 2).
    assert nhs_check_digit("943476591") == 9
    assert is_valid_nhs_number("943 476 5919")
    assert not is_valid_nhs_number("943 476 5918")
    assert not is_valid_nhs_number("94347659")


def test_check_digit_of_ten_means_invalid():
    # Find a first-nine whose remainder gives 10: no tenth digit can make it valid.
    bad = next(f"{i:09d}" for i in range(100000, 200000) if nhs_check_digit(f"{i:09d}") is None)
    assert not any(is_valid_nhs_number(bad + str(d)) for d in range(10))


def test_generated_numbers_are_valid_fictitious_and_distinct():
    nums = _nhs_numbers(np.random.default_rng(0), 2000)
    assert len(set(nums)) == 2000
    assert all(is_test_nhs_number(n) for n in nums)
    assert all(n.startswith("999") for n in nums)


def test_pseudonym_is_keyed_hmac_sha256_of_the_digits():
    p = Pseudonymiser(KEY)
    expected = hmac.new(KEY, b"9434765919", hashlib.sha256).hexdigest()
    assert p("943 476 5919") == expected == p("943-476-5919")
    assert Pseudonymiser(b"another-key-0123456789")("9434765919") != expected
    assert "943" not in repr(p) and KEY.decode() not in repr(p)


def test_no_key_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("HARMSCOPE_KEY", raising=False)
    with pytest.raises(HarmscopeError, match="no pseudonymisation key"):
        load_key()
    monkeypatch.setenv("HARMSCOPE_KEY", "short")
    with pytest.raises(HarmscopeError, match="at least 16"):
        load_key()
    with pytest.raises(HarmscopeError, match="key file not found"):
        load_key(tmp_path / "missing.key")
    f = tmp_path / "k.key"
    f.write_text("a-long-enough-secret-key\n")
    assert load_key(f) == b"a-long-enough-secret-key"


@pytest.mark.parametrize(
    ("text", "tag", "kept"),
    [
        ("hit by Mr Smith outside the pub", NAME_TAG, "outside the pub"),
        ("boyfriend Dave Jones punched her", NAME_TAG, "punched her"),
        ("call back on 07700 900123 please", PHONE_TAG, "please"),
        ("ring +44 1634 123456", PHONE_TAG, "ring"),
        ("pt nhs no 999 123 4560", NHS_TAG, "pt nhs no"),
        ("nhs 9991234560.", NHS_TAG, "nhs"),
    ],
)
def test_redaction_catches_identifiers(text, tag, kept):
    out, n = redact_text(text)
    assert tag in out and kept in out and n >= 1


@pytest.mark.parametrize(
    "text",
    [
        "Maidstone town centre",
        "outside Wetherspoons, Margate",
        "Rose and Crown",
        "Tom Street",
        "taxi rank, Chatham",
        "",
    ],
)
def test_redaction_leaves_places_alone(text):
    assert redact_text(text) == (text, 0)


@settings(max_examples=200, deadline=None)
@given(
    nine=st.integers(min_value=0, max_value=999_999),
    sep=st.sampled_from(["", " ", "-"]),
    before=st.text(alphabet="abcdefghij ,.:", max_size=20),
    after=st.text(alphabet="abcdefghij ,.:", max_size=20),
)
def test_any_embedded_nhs_number_is_redacted(nine, sep, before, after):
    first9 = f"999{nine:06d}"
    check = nhs_check_digit(first9)
    digits = first9 + str(check if check is not None else 0)
    shown = f"{digits[:3]}{sep}{digits[3:6]}{sep}{digits[6:]}"
    out, _ = redact_text(f"{before} {shown} {after}")
    assert digits not in out.replace(" ", "").replace("-", "")
