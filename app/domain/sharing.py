"""Sharing a badge outside Jalon (SHR-04): LinkedIn's "add to profile" link.

LinkedIn fills in its certification form from the query string of
``https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME``: the name, the
organisation (its LinkedIn page id when the structure gave one, else its name), the issue
and expiry month (1–12) and year, the credential URL (the badge's hosted address) and the
credential id (its public id). Nothing is sent to LinkedIn until the worker follows the link.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
#: A LinkedIn organisation (company page) id: digits only, as in its admin URL.
LINKEDIN_ORGANIZATION_ID = re.compile(r"[0-9]{1,20}")


def is_linkedin_organization_id(value: str | None) -> bool:
    """True for a usable LinkedIn organisation id (digits only)."""
    return value is not None and LINKEDIN_ORGANIZATION_ID.fullmatch(value.strip()) is not None


def linkedin_add_url(
    *,
    name: str,
    organization_name: str,
    organization_id: str | None,
    issued_on: date,
    cert_url: str,
    cert_id: str,
    expires_on: date | None = None,
) -> str:
    """The LinkedIn link that opens its "add a licence or certification" form, filled in.

    ``organization_id`` is used when it is a LinkedIn id (digits); otherwise, including an
    unusable value, the organisation is named by ``organization_name``.
    """
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id is not None and is_linkedin_organization_id(organization_id):
        params.append(("organizationId", organization_id.strip()))
    else:
        params.append(("organizationName", organization_name))
    # LinkedIn's months count from 1 (January), unlike JavaScript's Date.
    params += [("issueYear", str(issued_on.year)), ("issueMonth", str(issued_on.month))]
    if expires_on is not None:
        params += [
            ("expirationYear", str(expires_on.year)),
            ("expirationMonth", str(expires_on.month)),
        ]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params)}"
