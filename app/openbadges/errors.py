"""The exceptions the Open Badges library raises, one tree rooted at ``OpenBadgesError``.

::

    OpenBadgesError              anything the library refuses, with a clear English message
    ├── BakingError              a PNG or SVG that cannot be baked or read back:
    │                            bad PNG signature, truncated chunk, bad CRC, missing IHDR,
    │                            malformed or unsafe SVG (DTD entities, external entities),
    │                            a payload an image cannot carry
    └── RecipientError           an identity (email, telephone, url) that cannot be normalised

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
