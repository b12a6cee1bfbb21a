"""A self-contained Open Badges 2.0 library: no Flask, no SQLAlchemy, no ``app.*`` imports.

Today it holds key handling, baking (PNG and SVG) and recipient identities; documents,
signing and verifying join it with the badge issuance work. Errors: ``errors.py``.
"""

from app.openbadges.baking import bake_png, bake_svg, unbake_png, unbake_svg
from app.openbadges.errors import BakingError, OpenBadgesError, RecipientError
from app.openbadges.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
)
from app.openbadges.recipients import (
    hash_identity,
    matches,
    new_salt,
    normalise_identity,
    recipient,
)

__all__ = [
    "BakingError",
    "OpenBadgesError",
    "RecipientError",
    "bake_png",
    "bake_svg",
    "generate_private_key",
    "hash_identity",
    "load_private_key",
    "load_public_key",
    "matches",
    "new_salt",
    "normalise_identity",
    "private_key_to_pem",
    "public_key_to_pem",
    "recipient",
    "unbake_png",
    "unbake_svg",
]
