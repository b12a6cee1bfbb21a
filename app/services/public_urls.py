"""Every public Open Badges address, derived from one base URL (``JALON_BASE_URL``).

Services build documents with these; the public blueprint serves the same paths (a test
checks both agree). Ids are opaque random public ids, never row ids (BDG-09).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublicUrls:
    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    def issuer(self, issuer_id: str) -> str:
        """The issuer's id: JSON-LD to machines, the HTML profile to people."""
        return f"{self.base}/emetteurs/{issuer_id}"

    def revocations(self, issuer_id: str) -> str:
        return f"{self.base}/emetteurs/{issuer_id}/revocations"

    def key(self, key_id: str) -> str:
        return f"{self.base}/cles/{key_id}"

    def badge_class(self, class_id: str) -> str:
        return f"{self.base}/badges/modeles/{class_id}"

    def criteria(self, class_id: str) -> str:
        return f"{self.base}/badges/modeles/{class_id}/criteres"

    def class_image(self, class_id: str, fmt: str = "png") -> str:
        return f"{self.base}/badges/modeles/{class_id}/image.{fmt}"

    def assertion(self, assertion_id: str) -> str:
        """The badge's one stable public address (BDG-09)."""
        return f"{self.base}/badges/{assertion_id}"

    def assertion_json(self, assertion_id: str) -> str:
        return f"{self.base}/badges/{assertion_id}.json"

    def jws(self, assertion_id: str) -> str:
        return f"{self.base}/badges/{assertion_id}.jws"

    def baked(self, assertion_id: str, fmt: str = "png", *, signed: bool = False) -> str:
        suffix = "?variante=signee" if signed else ""
        return f"{self.base}/badges/{assertion_id}/badge.{fmt}{suffix}"

    def competence(self, referential: str, version: int, competence: str) -> str:
        """A competence, with its observable indicators, in its published referential."""
        return f"{self.base}/referentiels/{referential}/v{version}#competence-{competence}"

    def identity(self, identity_id: str) -> str:
        """A worker's identity URL: the recipient of a worker with no email or telephone."""
        return f"{self.base}/profils/{identity_id}"
