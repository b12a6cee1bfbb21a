"""JSON-LD processing of Open Badges 2.0 documents with pyld, offline.

The Open Badges v2 context ships with the library (``contexts/openbadges-v2.jsonld``) and
``document_loader`` serves it and nothing else: any other URL raises ``JsonLdError``, so no
JSON-LD operation here ever touches the network. Every operation uses that loader and a
context cache of its own (not pyld's process-wide one).

``dropped_properties`` lists what expansion would silently lose (keys the context does not
map, null values, types and links that are not absolute IRIs), so that tests can prove the
documents we publish mean what they say.

No document base is set: pyld would otherwise resolve a relative IRI (an unknown type such
as ``"Assertation"``) against a made-up ``http://example.org/base/`` and hide the mistake.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver

from app.openbadges.errors import JsonLdError

__all__ = [
    "CONTEXT_ALIASES",
    "CONTEXT_URL",
    "JsonLdError",
    "compact",
    "document_loader",
    "dropped_properties",
    "expand",
    "load_context",
    "normalize",
]

CONTEXT_URL = "https://w3id.org/openbadges/v2"
# w3id.org redirects CONTEXT_URL to this address; documents in the wild use both.
CONTEXT_ALIASES = frozenset({CONTEXT_URL, "https://openbadgespec.org/v2/context.json"})
CONTEXT_FILE = Path(__file__).parent / "contexts" / "openbadges-v2.jsonld"

# Resolved contexts by URL; only the shipped context can ever be resolved, so it stays tiny.
_resolved_contexts: dict[str, Any] = {}
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@lru_cache(maxsize=1)
def _context_text() -> str:
    return CONTEXT_FILE.read_text(encoding="utf-8")


def load_context() -> dict[str, Any]:
    """The shipped Open Badges v2 context document (``{"@context": {...}}``), a fresh copy."""
    return json.loads(_context_text())


def document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """A pyld document loader serving only the shipped Open Badges v2 context.

    Raise ``JsonLdError`` for any other URL: remote contexts are never fetched.
    """
    if url not in CONTEXT_ALIASES:
        raise JsonLdError(
            f"remote JSON-LD context refused: {url!r} "
            f"(only {CONTEXT_URL} is served, from the copy shipped with the library)"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(),
    }


def _options(**extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        # No document base: relative IRIs stay relative (and ``normalize`` leaves them out)
        # instead of being resolved against pyld's made-up http://example.org/base/.
        "base": None,
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_resolved_contexts, document_loader),
    }
    options.update(extra)
    return options


def _our_error(exc: BaseException) -> JsonLdError | None:
    """The first ``JsonLdError`` of ours in the chain of causes of ``exc``, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, JsonLdError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _run(operation: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a pyld function, turning any failure into our ``JsonLdError``."""
    try:
        return function(*args, **kwargs)
    except JsonLdError:
        raise
    except Exception as exc:  # pyld raises its own JsonLdError, but also bare Python errors
        ours = _our_error(exc)
        if ours is not None:
            raise JsonLdError(str(ours)) from exc
        raise JsonLdError(f"JSON-LD {operation} failed: {exc}") from exc


def expand(doc: dict | list) -> list:
    """The JSON-LD expanded form of ``doc`` (a list of node objects)."""
    return _run("expansion", _pyld.expand, copy.deepcopy(doc), _options())


def compact(doc: dict | list, context: Any = CONTEXT_URL) -> dict:
    """``doc`` compacted with ``context`` (the Open Badges v2 context URL by default)."""
    return _run("compaction", _pyld.compact, copy.deepcopy(doc), context, _options())


def normalize(doc: dict | list) -> str:
    """The URDNA2015 canonical N-Quads of ``doc``: equal strings mean the same RDF graph."""
    options = _options(algorithm="URDNA2015", format="application/n-quads")
    return _run("normalization", _pyld.normalize, copy.deepcopy(doc), options)


def _is_absolute_iri(value: str) -> bool:
    return value.startswith("_:") or bool(_ABSOLUTE_IRI.match(value))


def _relative_iris(expanded: Any, found: set[str]) -> None:
    """Collect the ``@id`` and ``@type`` values of an expanded document that are not absolute."""
    if isinstance(expanded, list):
        for item in expanded:
            _relative_iris(item, found)
        return
    if not isinstance(expanded, dict):
        return
    for key, value in expanded.items():
        if key == "@value":
            continue
        if key in ("@id", "@type"):
            for iri in value if isinstance(value, list) else [value]:
                if isinstance(iri, str) and not _is_absolute_iri(iri):
                    found.add(iri)
        else:
            _relative_iris(value, found)


def _paths(value: Any, prefix: str, keys: set[str], relative: set[str], found: list[str]) -> None:
    """Collect the dotted paths of ``keys``, of null values and of ``relative`` IRI strings."""
    if isinstance(value, list):
        for item in value:
            _paths(item, prefix, keys, relative, found)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key == "@context":
            continue
        path = f"{prefix}.{key}" if prefix else key
        if key in keys:
            found.append(path)
        elif item is None and not key.startswith("@"):
            found.append(f"{path} (null)")
        elif isinstance(item, str | list):
            for string in item if isinstance(item, list) else [item]:
                if isinstance(string, str) and string in relative:
                    found.append(f"{path}={string}")
            _paths(item, path, keys, relative, found)
        else:
            _paths(item, path, keys, relative, found)


def dropped_properties(doc: dict | list) -> list[str]:
    """What JSON-LD expansion of ``doc`` silently drops or leaves meaningless, as sorted paths.

    - ``"a.b"``: a key the active context does not map to an absolute IRI (a typo, a term
      missing from the Open Badges context), dropped by expansion;
    - ``"a.b (null)"``: a key whose value is null, dropped by expansion;
    - ``"a.type=Foo"``: a type or id value that is not an absolute IRI (an unknown type such
      as ``"Assertation"``, a relative link): it stays relative, so it means nothing and
      ``normalize`` leaves it out.

    Paths ignore list positions (``badge.alignment.foo``). The names come from pyld's own
    expansion and are then located in ``doc`` by name, so a key dropped in one place is
    reported wherever it occurs. An empty list means every property of ``doc`` survives.
    """
    dropped: set[str] = set()

    def on_dropped(expanded_property: str | None) -> None:
        if expanded_property is not None:
            dropped.add(expanded_property)

    expanded = _run(
        "expansion",
        _pyld.expand,
        copy.deepcopy(doc),
        _options(),
        on_property_dropped=on_dropped,
    )
    relative: set[str] = set()
    _relative_iris(expanded, relative)
    found: list[str] = []
    _paths(doc, "", dropped, relative, found)
    return sorted(set(found))
