"""JSON Schemas of the referential and scale files, and their errors as located issues.

The schemas (Draft 2020-12) are package data: ``referential.schema.json`` and
``scale.schema.json``. Editors can use them too. Every problem found becomes a
``ReferentialIssue`` that points to the line of the offending YAML node (for a missing
key, to its parent mapping), with a dotted field path and a plain French message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.domain.errors import InvalidReferential, ReferentialIssue

Path = Sequence[str | int]

_TYPE_NAMES = {
    "object": "une table de champs « clé: valeur »",
    "array": "une liste (lignes commençant par « - »)",
    "string": "un texte",
    "integer": "un nombre entier",
    "boolean": "true ou false",
}
_PATTERN_MESSAGES = {
    "^[a-z0-9]+(-[a-z0-9]+)*$": (
        "code invalide : lettres minuscules sans accent, chiffres et tirets (ex. s-adapter)"
    ),
    "^(bunk:)?[a-z0-9]+(-[a-z0-9]+)*$": (
        "référence invalide : un code de ce fichier ou « bunk:<code> »"
    ),
    "\\S": "le texte ne doit pas être vide",
    "^https?://[^\\s]+$": "adresse web invalide : elle doit commencer par https://",
    "^(Je |J['’])\\S": (
        "phrase à la première personne : commencez par « Je » ou « J' » (ex. Je suis à l'heure)"
    ),
}
_MISSING_MESSAGES = {
    "indicators": "au moins un indicateur observable est requis",
    "statement": (
        "phrase « Je … » obligatoire : ce que la personne dit d'elle-même (ex. Je suis à l'heure)"
    ),
}
# The parser's wording of the usual mistakes (PyYAML or libyaml), said in plain French.
_YAML_PROBLEMS = {
    "mapping values are not allowed": "« : » inattendu : vérifiez l'indentation de la ligne",
    "find expected ':'": "« : » manquant après le nom du champ",
    "found character '\\t'": "tabulation interdite : indentez avec des espaces",
    "found a tab character": "tabulation interdite : indentez avec des espaces",
    "expected <block end>": "indentation incohérente avec les lignes précédentes",
    "did not find expected key": "indentation incohérente avec les lignes précédentes",
    "found unexpected end of stream": "fin de fichier inattendue : guillemet non fermé ?",
    "expected ',' or ']'": "liste entre crochets mal fermée",
    "expected ',' or '}'": "table entre accolades mal fermée",
    "expected a single document": "un seul document par fichier : retirez la ligne « --- »",
    "found another document": "un seul document par fichier : retirez la ligne « --- »",
}
# libyaml when available: same nodes and marks, several times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``<name>.schema.json`` of this package, parsed (``referential``, ``scale``)."""
    text = files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


def read_yaml(text: str, source: str) -> tuple[Any, Node]:
    """Parse one YAML document: its data and its node tree (which knows the lines).

    Raises ``InvalidReferential`` on a syntax error or an empty file.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            empty = ReferentialIssue(source, 1, "(fichier)", "le fichier est vide")
            raise InvalidReferential([empty])
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        detail = exc.problem or exc.context or ""
        plain = next((fr for en, fr in _YAML_PROBLEMS.items() if en in detail), detail)
        message = f"syntaxe YAML invalide : {plain or 'vérifiez indentation, « : » et guillemets'}"
        raise InvalidReferential([ReferentialIssue(source, line, "(syntaxe)", message)]) from None
    except yaml.YAMLError as exc:
        message = f"syntaxe YAML invalide : {exc}"
        raise InvalidReferential([ReferentialIssue(source, 1, "(syntaxe)", message)]) from None
    finally:
        loader.dispose()
    return data, root


def field_path(path: Iterable[str | int]) -> str:
    """``["competences", 3, "indicators"]`` → ``competences[3].indicators``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(racine)"


def _child(node: Node, part: str | int) -> tuple[Node, Node] | None:
    """(key node, value node) of ``part`` in ``node``, the last one if a key is repeated."""
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in reversed(node.value):
            if isinstance(key, ScalarNode) and key.value == part:
                return key, value
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def node_at(root: Node, path: Path, *, key: bool = False) -> Node:
    """The node at ``path`` (its key node if ``key``), or the deepest node that exists."""
    node = root
    for index, part in enumerate(path):
        found = _child(node, part)
        if found is None:
            return node
        node = found[0] if key and index == len(path) - 1 else found[1]
    return node


def line_at(root: Node, path: Path, *, key: bool = False) -> int:
    """1-based line of the node at ``path`` (see ``node_at``)."""
    return node_at(root, path, key=key).start_mark.line + 1


def duplicate_key_issues(root: Node, source: str) -> list[ReferentialIssue]:
    """A key written twice in one mapping: YAML would silently keep only the last one."""
    issues: list[ReferentialIssue] = []

    def walk(node: Node, path: list[str | int]) -> None:
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    issues.append(
                        ReferentialIssue(
                            source,
                            key.start_mark.line + 1,
                            field_path([*path, name]),
                            f"champ écrit deux fois : {name}",
                        )
                    )
                seen.add(name)
                walk(value, [*path, name])
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, [*path, index])

    walk(root, [])
    return issues


def _quote(value: Any) -> str:
    return f"« {value} »"


def _messages(error: ValidationError) -> Iterator[tuple[list[str | int], bool, str]]:
    """(path, point at the key?, French message) for one jsonschema error."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.validator_value
    if error.validator == "required":
        for name in value:
            if isinstance(error.instance, dict) and name not in error.instance:
                text = _MISSING_MESSAGES.get(name, f"champ obligatoire manquant : {name}")
                yield [*path, name], False, text
    elif error.validator == "additionalProperties":
        known = schema.get("properties", {})
        for name in error.instance:
            if name not in known:
                yield [*path, str(name)], True, f"champ inconnu : {name}"
    elif "propertyNames" in error.schema_path:
        if isinstance(error.instance, bool):  # YAML reads a bare no / yes as false / true
            yield path, False, 'code de langue à écrire entre guillemets, par exemple "no": …'
        else:
            message = f"code de langue invalide : {_quote(error.instance)} (ex. fr, en, it)"
            yield [*path, str(error.instance)], True, message
    elif error.validator == "type":
        if value == "object" and schema.get("required") == ["fr"]:
            yield path, False, "type attendu : un texte par langue, par exemple « fr: … »"
        else:
            yield path, False, f"type attendu : {_TYPE_NAMES.get(str(value), value)}"
    elif error.validator in ("enum", "const"):
        allowed = value if error.validator == "enum" else [value]
        choices = ", ".join(str(v) for v in allowed)
        text = f"valeur non autorisée : {_quote(error.instance)} (possibles : {choices})"
        yield path, False, text
    elif error.validator == "pattern":
        yield path, False, _PATTERN_MESSAGES.get(str(value), f"format invalide : {error.instance}")
    elif error.validator == "minItems":
        if path and path[-1] == "indicators":
            yield path, False, _MISSING_MESSAGES["indicators"]
        else:
            yield path, False, f"au moins {value} élément(s) requis"
    elif error.validator == "maxItems":
        yield path, False, f"au plus {value} élément(s) permis"
    elif error.validator == "minLength":
        yield path, False, "le texte ne doit pas être vide"
    elif error.validator == "maxLength":
        yield path, False, f"texte trop long : {value} caractères au maximum"
    elif error.validator == "minimum":
        yield path, False, f"la valeur doit être au moins {value}"
    else:
        yield path, False, f"valeur invalide ({error.validator})"


def schema_issues(data: Any, root: Node, schema_name: str, source: str) -> list[ReferentialIssue]:
    """Every violation of the named schema by ``data``, located in the YAML tree ``root``."""
    validator = Draft202012Validator(load_schema(schema_name))
    issues: list[ReferentialIssue] = []
    for error in validator.iter_errors(data):
        for path, at_key, message in _messages(error):
            issues.append(
                ReferentialIssue(source, line_at(root, path, key=at_key), field_path(path), message)
            )
    return issues


def sorted_unique(issues: Iterable[ReferentialIssue]) -> list[ReferentialIssue]:
    """Issues without repeats, in file order."""
    return sorted(set(issues), key=lambda i: (i.line, i.field, i.message))
