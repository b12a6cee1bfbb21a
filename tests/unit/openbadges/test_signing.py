"""RS256 compact JWS of signed assertions: round trip, tampering, refused algorithms, fuzz.

Forged tokens are assembled here by hand (base64url, hmac, cryptography), not through the
module under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import cache

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.openbadges import keys, signing
from app.openbadges.errors import JwsFormatError, OpenBadgesError, SignatureError

ASSERTION = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": "http://127.0.0.1:5000/badges/3dM7Jx5eS9i7m0Ue9mWg2Q",
    "recipient": {"type": "email", "hashed": True, "salt": "c0", "identity": "sha256$ab"},
    "badge": "http://127.0.0.1:5000/badges/modeles/Z0bqzQyUd0m0hY1vNcGQSA",
    "verification": {"type": "SignedBadge", "creator": "http://127.0.0.1:5000/cles/k.json"},
    "issuedOn": "2024-05-02T08:30:15Z",
    "narrative": "Ponctualité — « remarquable »",
}


@cache
def private_key(name: str) -> rsa.RSAPrivateKey:
    """Two distinct 2048-bit keys, generated once for the whole module."""
    return keys.generate_private_key()


@cache
def signed_token() -> str:
    return signing.sign(ASSERTION, private_key("a"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(value: object) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def rsa_token(header: dict, payload: object, key: rsa.RSAPrivateKey, digest=None) -> str:
    signing_input = f"{b64_json(header)}.{b64_json(payload)}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), digest or hashes.SHA256())
    return f"{signing_input.decode('ascii')}.{b64(signature)}"


@pytest.fixture(scope="module")
def token() -> str:
    return signed_token()


def test_round_trip_returns_the_assertion(token: str) -> None:
    assert signing.verify(token, private_key("a").public_key()) == ASSERTION


def test_verify_accepts_the_public_key_pem(token: str) -> None:
    pem = keys.public_key_to_pem(private_key("a"))
    assert signing.verify(token, pem) == ASSERTION
    assert signing.verify(token, pem.encode("ascii")) == ASSERTION


def test_sign_accepts_the_private_key_pem() -> None:
    pem = keys.private_key_to_pem(private_key("a"))
    token = signing.sign(ASSERTION, pem)
    assert signing.verify(token, private_key("a").public_key()) == ASSERTION


def test_token_layout_is_header_rs256_and_compact_json_payload(token: str) -> None:
    header_b64, payload_b64, signature_b64 = token.split(".")
    padded = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(padded(header_b64))) == {"alg": "RS256"}
    payload = base64.urlsafe_b64decode(padded(payload_b64))
    assert payload == json.dumps(ASSERTION, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(base64.urlsafe_b64decode(padded(signature_b64))) == 256  # 2048-bit RSA
    # an independent verification with cryptography alone
    private_key("a").public_key().verify(
        base64.urlsafe_b64decode(padded(signature_b64)),
        f"{header_b64}.{payload_b64}".encode("ascii"),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_parse_reads_without_verifying(token: str) -> None:
    header, payload = signing.parse(token)
    assert header == {"alg": "RS256"}
    assert payload == ASSERTION
    forged = rsa_token({"alg": "RS256"}, {"id": "x"}, private_key("b"))
    assert signing.parse(forged) == ({"alg": "RS256"}, {"id": "x"})


def test_surrounding_whitespace_is_tolerated(token: str) -> None:
    assert signing.verify(f"  {token}\n", private_key("a").public_key()) == ASSERTION


def test_tampered_payload_fails(token: str) -> None:
    header_b64, _, signature_b64 = token.split(".")
    tampered = {**ASSERTION, "badge": "http://127.0.0.1:5000/badges/modeles/autre"}
    forged = f"{header_b64}.{b64_json(tampered)}.{signature_b64}"
    assert signing.parse(forged)[1] == tampered  # well-formed ...
    with pytest.raises(SignatureError, match="does not match") as caught:
        signing.verify(forged, private_key("a").public_key())  # ... but not signed
    assert not isinstance(caught.value, JwsFormatError)


def test_tampered_signature_fails(token: str) -> None:
    header_b64, payload_b64, signature_b64 = token.split(".")
    flipped = ("B" if signature_b64[10] == "A" else "A").join(
        (signature_b64[:10], signature_b64[11:])
    )
    with pytest.raises(SignatureError, match="does not match"):
        signing.verify(f"{header_b64}.{payload_b64}.{flipped}", private_key("a").public_key())


def test_another_key_fails(token: str) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        signing.verify(token, private_key("b").public_key())


@pytest.mark.parametrize(
    "signature", ["", "c2lnbmF0dXJl"], ids=["empty-signature", "some-signature"]
)
def test_alg_none_is_refused(signature: str) -> None:
    forged = f"{b64_json({'alg': 'none'})}.{b64_json(ASSERTION)}.{signature}"
    for call in (signing.parse, lambda t: signing.verify(t, private_key("a").public_key())):
        with pytest.raises(SignatureError, match="'none' refused"):
            call(forged)


def test_missing_alg_is_refused() -> None:
    forged = f"{b64_json({'typ': 'JWT'})}.{b64_json(ASSERTION)}.c2ln"
    with pytest.raises(SignatureError, match="None refused"):
        signing.parse(forged)


@pytest.mark.parametrize(
    "secret",
    [b"secret", keys.public_key_to_pem(private_key("a")).encode("ascii")],
    ids=["shared-secret", "public-key-as-hmac-secret"],
)
def test_hs256_is_refused(secret: bytes) -> None:
    signing_input = f"{b64_json({'alg': 'HS256'})}.{b64_json(ASSERTION)}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    with pytest.raises(SignatureError, match="'HS256' refused"):
        signing.verify(forged, private_key("a").public_key())
    with pytest.raises(SignatureError, match="'HS256' refused"):
        signing.parse(forged)


@pytest.mark.parametrize(
    ("alg", "digest"),
    [("RS512", hashes.SHA512()), ("PS256", hashes.SHA256()), ("rs256", hashes.SHA256())],
)
def test_other_rsa_algorithms_are_refused_even_when_correctly_signed(alg, digest) -> None:
    forged = rsa_token({"alg": alg}, ASSERTION, private_key("a"), digest)
    with pytest.raises(SignatureError, match="refused"):
        signing.verify(forged, private_key("a").public_key())


@pytest.mark.parametrize(
    "header",
    [{"alg": "RS256", "crit": ["exp"]}, {"alg": "RS256", "b64": False, "crit": ["b64"]}],
    ids=["crit", "b64-false"],
)
def test_header_extensions_are_refused(header: dict) -> None:
    forged = rsa_token(header, ASSERTION, private_key("a"))
    with pytest.raises(JwsFormatError):
        signing.verify(forged, private_key("a").public_key())


def test_every_truncation_fails_to_verify(token: str) -> None:
    public = private_key("a").public_key()
    for length in range(0, len(token), 7):
        with pytest.raises(SignatureError):
            signing.verify(token[:length], public)


def test_truncation_before_the_signature_is_a_format_error(token: str) -> None:
    last_dot = token.rindex(".")
    for length in range(0, last_dot, 5):
        with pytest.raises(JwsFormatError):
            signing.parse(token[:length])


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a jws",
        "a.b",
        "a.b.c.d",
        "...",
        "!!!.###.$$$",
        "eyJhbGciOiJSUzI1NiJ9.eyJ.c2ln",
        "eyJhbGciOiJSUzI1NiJ9==.e30.c2ln",
        "é.é.é",
        "\x00.\x00.\x00",
        b"\xff\xfe.\x00.\x01",
        None,
        42,
        ["a", "b", "c"],
    ],
)
def test_garbage_is_a_format_error(garbage: object) -> None:
    with pytest.raises(JwsFormatError):
        signing.parse(garbage)  # type: ignore[arg-type]
    with pytest.raises(JwsFormatError):
        signing.verify(garbage, private_key("a").public_key())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        ("[1,2]", "{}"),
        ('"RS256"', "{}"),
        ('{"alg":"RS256"}', "[]"),
        ('{"alg":"RS256"}', '"assertion"'),
        ('{"alg":"RS256"}', '{"a":NaN}'),
        ('{"alg":"RS256"}', "{"),
        ('{"alg":"RS256"', "{}"),
    ],
)
def test_header_and_payload_must_be_json_objects(header: str, payload: str) -> None:
    forged = f"{b64(header.encode())}.{b64(payload.encode())}.c2ln"
    with pytest.raises(JwsFormatError):
        signing.parse(forged)


def test_payload_that_is_not_utf8_is_a_format_error() -> None:
    payload = b64(b'{"a":"\xff"}')
    forged = f"{b64_json({'alg': 'RS256'})}.{payload}.c2ln"
    with pytest.raises(JwsFormatError, match="UTF-8"):
        signing.parse(forged)


def test_oversized_input_is_refused_before_decoding() -> None:
    huge = "A" * (signing.MAX_JWS_BYTES + 1)
    with pytest.raises(JwsFormatError, match="larger than"):
        signing.parse(huge)
    with pytest.raises(JwsFormatError, match="larger than"):
        signing.verify(huge.encode("ascii"), private_key("a").public_key())


def test_sign_refuses_an_assertion_too_large_to_verify() -> None:
    with pytest.raises(SignatureError, match="exceed"):
        signing.sign({"narrative": "x" * signing.MAX_JWS_BYTES}, private_key("a"))


@pytest.mark.parametrize(
    "assertion",
    [["not", "a", "dict"], {"when": object()}, {"nan": float("nan")}],
    ids=["list", "not-serialisable", "nan"],
)
def test_sign_refuses_what_is_not_a_json_object(assertion: object) -> None:
    with pytest.raises(SignatureError):
        signing.sign(assertion, private_key("a"))  # type: ignore[arg-type]


def test_sign_refuses_keys_that_are_not_rsa_private_keys() -> None:
    with pytest.raises(SignatureError, match="RSA private key is required"):
        signing.sign(ASSERTION, private_key("a").public_key())
    with pytest.raises(SignatureError, match="RSA private key is required"):
        signing.sign(ASSERTION, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(SignatureError, match="unusable private key"):
        signing.sign(ASSERTION, b"-----BEGIN PRIVATE KEY-----\ngarbage\n")


def test_keys_shorter_than_2048_bits_are_refused() -> None:
    weak = keys.generate_private_key(1024)
    with pytest.raises(SignatureError, match="cannot sign"):
        signing.sign(ASSERTION, weak)
    forged = rsa_token({"alg": "RS256"}, ASSERTION, weak)
    with pytest.raises(SignatureError):
        signing.verify(forged, weak.public_key())


def test_verify_refuses_unusable_public_keys(token: str) -> None:
    with pytest.raises(SignatureError, match="unusable public key"):
        signing.verify(token, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(SignatureError, match="RSA public key is required"):
        signing.verify(token, ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(SignatureError, match="RSA public key is required"):
        signing.verify(token, 12345)


JWS_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet=JWS_ALPHABET, max_size=300),
        st.binary(max_size=300),
        st.lists(st.text(alphabet=JWS_ALPHABET[:-1], max_size=80), min_size=3, max_size=3).map(
            ".".join
        ),
    )
)
def test_fuzz_random_input_raises_only_library_errors(data: str | bytes) -> None:
    for call in (signing.parse, lambda t: signing.verify(t, private_key("a").public_key())):
        try:
            call(data)
        except OpenBadgesError:
            pass


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from(JWS_ALPHABET))
def test_fuzz_any_single_character_change_fails_verification(
    position: int, replacement: str
) -> None:
    token = signed_token()
    position %= len(token)
    mutated = token[:position] + replacement + token[position + 1 :]
    if mutated == token:
        return
    with pytest.raises(SignatureError):
        signing.verify(mutated, private_key("a").public_key())


def test_a_token_read_once_is_verified_from_what_was_read(token: str) -> None:
    parsed = signing.read(token)
    assert (parsed.header, parsed.payload) == signing.parse(token)
    assert signing.verify_parsed(parsed, private_key("a").public_key()) == ASSERTION
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify_parsed(parsed, private_key("b").public_key())
    header_b64, _, signature_b64 = token.split(".")
    tampered = signing.read(f"{header_b64}.{b64_json({'id': 'x'})}.{signature_b64}")
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify_parsed(tampered, private_key("a").public_key())


def test_a_payload_starting_with_a_byte_order_mark_is_refused_as_json_would() -> None:
    payload = b64("\ufeff".encode() + json.dumps(ASSERTION).encode())
    forged = f"{b64_json({'alg': 'RS256'})}.{payload}.{b64(b'signature')}"
    with pytest.raises(signing.JwsFormatError, match="Unexpected UTF-8 BOM"):
        signing.parse(forged)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(extra=st.dictionaries(st.text(), _JSON_VALUES, max_size=6))
def test_sign_writes_the_bytes_pyjwt_writes_for_the_same_payload(extra: dict) -> None:
    """The JWS is assembled here, not by PyJWT: it must stay what PyJWT gave (tests/golden)."""
    from jwt.api_jws import PyJWS

    document = {**ASSERTION, **extra}
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    reference = PyJWS(algorithms=["RS256"]).encode(
        payload.encode("utf-8"), private_key("a"), algorithm="RS256", headers={"typ": None}
    )
    assert signing.sign(document, private_key("a")) == reference


def test_a_signature_spelt_with_unused_bits_set_is_refused(token: str) -> None:
    """« w » and « x » differ only in bits that a 256-byte signature leaves unused: the
    altered token decodes to the same signature, and must still be refused."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert len(signature_b64) % 4 == 2  # 256 bytes: the last character holds 2 bits
    alphabet = JWS_ALPHABET
    last = alphabet.index(signature_b64[-1])
    twin = alphabet[last | 0b0001]  # same 2 data bits, one unused bit set
    assert twin != signature_b64[-1]
    forged = f"{header_b64}.{payload_b64}.{signature_b64[:-1]}{twin}"
    with pytest.raises(signing.JwsFormatError, match="not canonical"):
        signing.verify(forged, private_key("a").public_key())
    assert signing.verify(token, private_key("a").public_key()) == ASSERTION
