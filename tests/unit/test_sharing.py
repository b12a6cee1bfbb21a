"""LinkedIn "add to profile" link (SHR-04): every parameter, encoded, and months 1–12."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.sharing import is_linkedin_organization_id, linkedin_add_url

PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
URL = "https://jalon.example.org/badges/Qx7-abc_DEF0123456789z"


def query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    return parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)


def test_a_badge_with_a_linkedin_page_fills_in_every_field():
    url = linkedin_add_url(
        name="Travailler en équipe — niveau 3",
        organization_name="Jardins d'Avenir",
        organization_id="12345678",
        issued_on=date(2026, 1, 31),
        expires_on=date(2028, 12, 1),
        cert_url=URL,
        cert_id="Qx7-abc_DEF0123456789z",
    )
    assert query(url) == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Travailler en équipe — niveau 3"],
        "organizationId": ["12345678"],
        "issueYear": ["2026"],
        "issueMonth": ["1"],  # January is 1, not 0
        "expirationYear": ["2028"],
        "expirationMonth": ["12"],
        "certUrl": [URL],
        "certId": ["Qx7-abc_DEF0123456789z"],
    }
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&")
    # Reserved and non-ASCII characters are percent-encoded, never raw in the link.
    assert " " not in url and "é" not in url and "'" not in url
    assert "certUrl=https%3A%2F%2Fjalon.example.org%2Fbadges%2F" in url


def test_without_a_linkedin_page_the_organisation_is_named_and_no_expiry_is_sent():
    params = query(
        linkedin_add_url(
            name="Organiser son travail — niveau 4",
            organization_name="Atelier & Bois : coopérative",
            organization_id=None,
            issued_on=date(2026, 11, 2),
            cert_url=URL,
            cert_id="abc",
        )
    )
    assert params["organizationName"] == ["Atelier & Bois : coopérative"]
    assert "organizationId" not in params
    assert "expirationYear" not in params and "expirationMonth" not in params
    assert (params["issueYear"], params["issueMonth"]) == (["2026"], ["11"])


def test_an_unusable_organisation_id_falls_back_to_the_name():
    for bad in ("", "  ", "jardins-d-avenir", "123abc", "https://linkedin.com/company/1"):
        params = query(
            linkedin_add_url(
                name="n",
                organization_name="Jardins d'Avenir",
                organization_id=bad,
                issued_on=date(2026, 5, 1),
                cert_url=URL,
                cert_id="x",
            )
        )
        assert params["organizationName"] == ["Jardins d'Avenir"], bad
        assert "organizationId" not in params
    assert is_linkedin_organization_id(" 42 ")
    assert not is_linkedin_organization_id(None)
    assert not is_linkedin_organization_id("4 2")


texts = st.text(min_size=1, max_size=80).filter(lambda s: s.strip() == s and s.strip())
days = st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))


@PROPS
@given(
    name=texts,
    organization=texts,
    organization_id=st.one_of(st.none(), st.from_regex(r"[0-9]{1,12}", fullmatch=True), texts),
    issued_on=days,
    expires_on=st.one_of(st.none(), days),
    cert_id=texts,
)
def test_parameters_round_trip_and_months_are_one_to_twelve(
    name, organization, organization_id, issued_on, expires_on, cert_id
):
    cert_url = f"https://jalon.example.org/badges/{cert_id}"
    params = query(
        linkedin_add_url(
            name=name,
            organization_name=organization,
            organization_id=organization_id,
            issued_on=issued_on,
            cert_url=cert_url,
            cert_id=cert_id,
            expires_on=expires_on,
        )
    )
    assert params["startTask"] == ["CERTIFICATION_NAME"]
    assert params["name"] == [name]
    assert params["certUrl"] == [cert_url]
    assert params["certId"] == [cert_id]
    if organization_id is not None and organization_id.isascii() and organization_id.isdigit():
        assert params["organizationId"] == [organization_id]
        assert "organizationName" not in params
    else:
        assert params["organizationName"] == [organization]
    assert 1 <= int(params["issueMonth"][0]) <= 12
    assert (int(params["issueYear"][0]), int(params["issueMonth"][0])) == (
        issued_on.year,
        issued_on.month,
    )
    if expires_on is None:
        assert "expirationMonth" not in params
    else:
        assert 1 <= int(params["expirationMonth"][0]) <= 12
        assert int(params["expirationYear"][0]) == expires_on.year
        assert int(params["expirationMonth"][0]) == expires_on.month
