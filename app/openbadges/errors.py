"""The exceptions the Open Badges library raises, one tree rooted at ``OpenBadgesError``.

::

    OpenBadgesError              anything the library refuses, with a clear English message
    ├── BakingError              a PNG or SVG that cannot be baked or read back:
    │                            bad PNG signature, truncated chunk, bad CRC, missing IHDR,
    │                            malformed or unsafe SVG (DTD entities, external entities),
    │                            a payload an image cannot carry
    ├── RecipientError           an identity (email, telephone, url) that cannot be normalised
    ├── JsonLdError              a JSON-LD document that cannot be processed: a remote context
    │                            other than the shipped Open Badges v2 context, invalid JSON-LD
    ├── DocumentError            a badge document builder given invalid arguments
    │                            (naive datetime, empty required field, bad type)
    ├── FetchError               a badge document could not be fetched or read: network or
    │                            HTTP error, not JSON, too large, not the object expected;
    │                            raised by the fetch function a caller gives ``verify``
    └── SignatureError           a JWS that does not verify: bad signature, wrong key,
        │                        an algorithm other than RS256, an unusable key
        └── JwsFormatError       a JWS that cannot even be read: truncated, garbage,
                                 bad base64url, header or payload not a JSON object, too large

Callers catch ``OpenBadgesError`` to handle every refusal of the library at once; no other
exception type escapes from bad input.
"""

from __future__ import annotations


class OpenBadgesError(Exception):
    """Root of every error raised by ``app.openbadges``."""


class BakingError(OpenBadgesError):
    """A badge image is corrupt or unsafe, or a payload cannot be baked into it."""


class RecipientError(OpenBadgesError):
    """A recipient identity is invalid and cannot be normalised."""


class JsonLdError(OpenBadgesError):
    """A JSON-LD document cannot be processed (remote context refused, invalid JSON-LD)."""


class DocumentError(OpenBadgesError):
    """A badge document cannot be built from the given arguments."""


class FetchError(OpenBadgesError):
    """A document the verifier needs could not be fetched, or is not the JSON object expected."""


class SignatureError(OpenBadgesError):
    """A signed assertion (JWS) does not verify, or uses a refused algorithm or key."""


class JwsFormatError(SignatureError):
    """A JWS is malformed: not three base64url segments of JSON, truncated, or too large."""
