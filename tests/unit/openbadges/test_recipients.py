"""Recipient identities (issue #8): normalisation, OB 2.0 salted hashes, the employer's check.

Expected hashes are computed here with ``hashlib`` directly, not through the library.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from app.openbadges import (
    OpenBadgesError,
    RecipientError,
    hash_identity,
    matches,
    new_salt,
    normalise_identity,
    recipient,
)


@pytest.mark.parametrize(
    ("kind", "value", "country", "expected"),
    [
        ("email", "  Karim.B@Example.ORG \n", "FR", "karim.b@example.org"),
        ("telephone", "06 12 34 56 78", "FR", "+33612345678"),
        ("telephone", "06.12.34.56.78", "FR", "+33612345678"),
        ("telephone", "+33 6 12 34 56 78", "FR", "+33612345678"),
        ("telephone", "+33612345678", "BE", "+33612345678"),
        ("telephone", "0470 12 34 56", "BE", "+32470123456"),
        ("telephone", "0470 12 34 56", "be", "+32470123456"),
        ("telephone", "0470 12 34 56", "FR", "+33470123456"),  # same digits, French landline
        ("telephone", "02 511 18 78", "BE", "+3225111878"),
        ("url", "https://jalon.example/p/Ab3_x", "FR", "https://jalon.example/p/Ab3_x"),
        ("url", "http://127.0.0.1:5000/p/1", "FR", "http://127.0.0.1:5000/p/1"),
    ],
)
def test_identities_are_normalised(kind, value, country, expected):
    assert normalise_identity(kind, value, country=country) == expected


@pytest.mark.parametrize(
    ("kind", "value", "country"),
    [
        ("email", "not-an-email", "FR"),
        ("email", "a@b", "FR"),
        ("email", "two@at@example.org", "FR"),
        ("email", "", "FR"),
        ("telephone", "12", "FR"),
        ("telephone", "bonjour", "FR"),
        ("telephone", "02 511 18 78", "FR"),  # a Brussels number is too short for France
        ("telephone", "06 12 34 56 78", "XX"),
        ("telephone", "06 12 34 56 78", "France"),
        ("url", "ftp://example.org/x", "FR"),
        ("url", "javascript:alert(1)", "FR"),
        ("url", "https://", "FR"),
        ("url", "https://exa mple.org/", "FR"),
        ("fax", "01 23 45 67 89", "FR"),
    ],
)
def test_invalid_identities_raise_recipient_error(kind, value, country):
    with pytest.raises(RecipientError):
        normalise_identity(kind, value, country=country)


def test_recipient_error_belongs_to_the_library_tree():
    assert issubclass(RecipientError, OpenBadgesError)


def test_hash_known_answer():
    expected = "sha256$" + hashlib.sha256(b"+33612345678deadbeef").hexdigest()
    assert hash_identity("+33612345678", "deadbeef") == expected
    assert hash_identity("karim@example.org", "") == (
        "sha256$" + hashlib.sha256(b"karim@example.org").hexdigest()
    )


def test_salts_are_random_hex_of_16_bytes():
    salts = {new_salt() for _ in range(50)}
    assert len(salts) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", salt) for salt in salts)


def test_recipient_object_is_the_ob2_hashed_identity():
    salt = new_salt()
    expected = "sha256$" + hashlib.sha256(f"+33612345678{salt}".encode()).hexdigest()
    assert recipient("telephone", "06 12 34 56 78", salt=salt) == {
        "type": "telephone",
        "hashed": True,
        "salt": salt,
        "identity": expected,
    }


def test_employer_check_matches_any_spelling_of_the_same_identity():
    salt = new_salt()
    hashed = recipient("telephone", "+33612345678", salt=salt)["identity"]
    assert matches("telephone", "06 12 34 56 78", hashed, salt)
    assert matches("telephone", "+33 6 12 34 56 78", hashed, salt)
    assert not matches("telephone", "06 12 34 56 79", hashed, salt)
    assert not matches("telephone", "06 12 34 56 78", hashed, new_salt())
    assert matches("telephone", "06 12 34 56 78", hashed.upper().replace("SHA256", "sha256"), salt)

    email_hash = recipient("email", "karim@example.org", salt=salt)["identity"]
    assert matches("email", " Karim@Example.org ", email_hash, salt)
    assert not matches("email", "karim@example.com", email_hash, salt)


def test_employer_check_uses_the_structure_country():
    salt = new_salt()
    hashed = recipient("telephone", "0470 12 34 56", salt=salt, country="BE")["identity"]
    assert matches("telephone", "0470 12 34 56", hashed, salt, country="BE")
    assert matches("telephone", "+32 470 12 34 56", hashed, salt)
    assert not matches("telephone", "0470 12 34 56", hashed, salt)  # read as +33 4 70…
    with pytest.raises(RecipientError):
        matches("telephone", "02 511 18 78", hashed, salt)  # not a valid French number


def test_recipient_refuses_invalid_input():
    with pytest.raises(RecipientError):
        recipient("email", "nobody", salt=new_salt())
