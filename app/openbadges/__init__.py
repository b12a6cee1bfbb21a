"""A self-contained Open Badges 2.0 library: no Flask, no SQLAlchemy, no ``app.*`` imports.

Key handling, baking (PNG and SVG), recipient identities, document builders (``documents``),
offline JSON-LD processing with the shipped v2 context (``jsonld``), RS256 JWS signing
(``signing``) and verification of hosted and signed badges (``verifier``). Errors: ``errors.py``.
"""

from app.openbadges.baking import (
    BakedPng,
    PngLayout,
    PngLayouts,
    bake_png,
    bake_svg,
    baked_png_parts,
    check_png,
    png_layout,
    unbake_png,
    unbake_svg,
)
from app.openbadges.documents import (
    assertion,
    badge_class,
    cryptographic_key,
    iso8601,
    issuer_profile,
    revocation_list,
    verification_hosted,
    verification_signed,
)
from app.openbadges.errors import (
    BakingError,
    DocumentError,
    FetchError,
    JsonLdError,
    JwsFormatError,
    OpenBadgesError,
    RecipientError,
    SignatureError,
)
from app.openbadges.jsonld import (
    CONTEXT_URL,
    compact,
    document_loader,
    dropped_properties,
    expand,
    load_context,
    normalize,
)
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
from app.openbadges.signing import parse as parse_jws
from app.openbadges.signing import sign as sign_assertion
from app.openbadges.signing import verify as verify_jws
from app.openbadges.verifier import (
    CHECKS,
    Check,
    RevocationStatus,
    Verification,
    revocation_from_list,
    verify,
)

__all__ = [
    "CHECKS",
    "CONTEXT_URL",
    "BakedPng",
    "BakingError",
    "Check",
    "DocumentError",
    "FetchError",
    "JsonLdError",
    "JwsFormatError",
    "OpenBadgesError",
    "PngLayout",
    "PngLayouts",
    "RecipientError",
    "RevocationStatus",
    "SignatureError",
    "Verification",
    "assertion",
    "badge_class",
    "bake_png",
    "bake_svg",
    "baked_png_parts",
    "check_png",
    "compact",
    "cryptographic_key",
    "document_loader",
    "dropped_properties",
    "expand",
    "generate_private_key",
    "hash_identity",
    "iso8601",
    "issuer_profile",
    "load_context",
    "load_private_key",
    "load_public_key",
    "matches",
    "new_salt",
    "normalise_identity",
    "normalize",
    "parse_jws",
    "png_layout",
    "private_key_to_pem",
    "public_key_to_pem",
    "recipient",
    "revocation_from_list",
    "revocation_list",
    "sign_assertion",
    "unbake_png",
    "unbake_svg",
    "verification_hosted",
    "verification_signed",
    "verify",
    "verify_jws",
]
