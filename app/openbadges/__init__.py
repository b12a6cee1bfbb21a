"""A self-contained Open Badges 2.0 library: no Flask, no SQLAlchemy, no ``app.*`` imports.

Today it holds key handling; documents, signing, baking and verifying join it with the
badge issuance work.
"""

from app.openbadges.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
)

__all__ = [
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "private_key_to_pem",
    "public_key_to_pem",
]
