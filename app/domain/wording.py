"""Wording lint: stigmatising terms and deficit phrasing (REQUIREMENTS §5, REF-09, BDG-06).

Badge texts, issuer names and public pages must not reveal the programme, the target
public, or a social, health or justice situation. ``scan`` finds the terms of the §5
lists in any text, whatever the case, the accents, the apostrophes or the inflection
("Détenues", "handicapée", "éloignées de l'emploi"), and only as whole words: "SDF"
matches, "prison" does not match inside "emprisonnement". ``is_deficit_phrasing`` flags
indicators written as a lack ("ne pas…", "manque de…") instead of a visible action.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

#: Blocked terms (§5), as written there. "(e)s" marks the feminine and plural forms.
BLOCKED_FR: tuple[str, ...] = (
    "éloigné(e)s de l'emploi",
    "public en difficulté",
    "handicap",
    "handicapé",
    "RQTH",
    "MDPH",
    "détenu",
    "détention",
    "prison",
    "sous main de justice",
    "casier",
    "probation",
    "SPIP",
    "réinsertion",
    "RSA",
    "allocataire",
    "minima sociaux",
    "réfugié",
    "demandeur d'asile",
    "sans-abri",
    "SDF",
    "illettré",
    "illettrisme",
    "analphabète",
    "addiction",
    "toxicomane",
    "NEET",
    "décrocheur",
    "chômeur de longue durée",
    "DELD",
    "inemployable",
    "contrat aidé",
    "CDDI",
    "chantier d'insertion",
    "entreprise d'insertion",
)
BLOCKED_EN: tuple[str, ...] = (
    "disadvantaged",
    "hard-to-employ",
    "ex-offender",
    "inmate",
    "prison",
    "disabled",
    "welfare",
    "illiterate",
    "homeless",
    "long-term unemployed",
    "NEET",
    "rehabilitation",
)
BLOCKED_IT: tuple[str, ...] = (
    "svantaggiato",
    "disabile",
    "detenuto",
    "carcere",
    "reinserimento",
    "inserimento lavorativo",
    "analfabeta",
    "senzatetto",
    "disoccupato di lunga durata",
)
#: Terms that may be fine in context: shown to a person, never rejected on their own.
REVIEW: tuple[str, ...] = (
    "insertion",
    "bénéficiaire",
    "difficulté",
    "fragile",
    "précaire",
    "vulnérable",
    "motivation",
    "comportement",
    "déficit",
    "manque",
)

HitKind = Literal["blocked", "review"]


@dataclass(frozen=True)
class WordingHit:
    """One occurrence of a listed term: ``text[start:end] == matched``."""

    term: str
    kind: HitKind
    lang: str
    start: int
    end: int
    matched: str


_APOSTROPHES = "'’‘ʼ`´"
_DASHES = "-‐‑‒–—"
# Points used in French inclusive writing (« détenu·es », « réfugié•e•s »): folded to « · ».
_MIDDLE_DOTS = "·•‧⋅∙・･"
_LIGATURES = {"œ": "oe", "æ": "ae"}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _APOSTROPHES:
        return "'"
    if ch in _DASHES:
        return "-"
    if ch in _MIDDLE_DOTS:
        return "·"
    decomposed = unicodedata.normalize("NFKD", ch)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return "".join(_LIGATURES.get(c, c) for c in folded)


def _fold(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each of its characters, the index of its source character."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for out in _fold_char(ch):
            chars.append(out)
            origin.append(index)
    return "".join(chars), origin


def normalize(text: str) -> str:
    """Lower-case ``text`` without accents, with plain apostrophes and hyphens."""
    return _fold(text)[0]


# Inclusive endings after a French word, up to two of them: « détenu·es », « éloigné·e·s »,
# « demandeur·euse·s », « chômeur.euse.s », « détenu-e-s », « réfugié/e », « éloigné(e)s ».
_INCLUSIVE_ENDINGS = "e|s|es|x|se|ses|euse|euses|ice|ices|rice|rices"
_INCLUSIVE = rf"(?:[·.\-/](?:{_INCLUSIVE_ENDINGS})|\((?:{_INCLUSIVE_ENDINGS})\)s?){{0,2}}"


def _inflect(word: str, lang: str, acronym: bool) -> str:
    """Regex for one word of a term, with its usual feminine, plural and inclusive endings."""
    stem = re.escape(word)
    if acronym:
        return stem + "s?"
    if len(word) < 4:
        return stem
    if lang == "it":  # detenuto → detenuta, detenuti, detenute; inclusive detenutə, detenut*
        if word[-1] in "aeio":
            return re.escape(word[:-1]) + r"[aeioə*]"
        return stem
    if lang == "en":
        return stem + "(?:s|es)?"
    if word.endswith("eur"):  # demandeur → demandeuse(s), décrocheur → décrocheuse(s)
        return re.escape(word[:-3]) + "(?:eur|euse)s?" + _INCLUSIVE
    return stem + "(?:e|s|es|x)?" + _INCLUSIVE


def _compile(term: str, lang: str) -> re.Pattern[str]:
    base = re.sub(r"\(e\)s?", "", term)
    acronym = base.isupper()
    words = [w for w in re.split(r"[\s'\-]+", normalize(base)) if w]
    body = r"[\s'\-]*".join(_inflect(w, lang, acronym) for w in words)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)")


_LISTS: tuple[tuple[HitKind, str, tuple[str, ...]], ...] = (
    ("blocked", "fr", BLOCKED_FR),
    ("blocked", "en", BLOCKED_EN),
    ("blocked", "it", BLOCKED_IT),
    ("review", "fr", REVIEW),
)
_PATTERNS: tuple[tuple[str, HitKind, str, re.Pattern[str]], ...] = tuple(
    (term, kind, lang, _compile(term, lang)) for kind, lang, terms in _LISTS for term in terms
)
# One pass over the text tells whether any term is there at all (the usual answer: no).
_ANY = re.compile("|".join(f"(?:{pattern.pattern})" for *_, pattern in _PATTERNS))


def scan(text: str) -> list[WordingHit]:
    """Every blocked or review term found in ``text``, in reading order.

    A term listed in several languages ("prison", "NEET") is reported once; a review term
    inside a blocked one ("insertion" in "chantier d'insertion") is not reported.
    """
    folded, origin = _fold(text)
    if not _ANY.search(folded):
        return []
    found: list[WordingHit] = []
    for term, kind, lang, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            start, end = origin[match.start()], origin[match.end() - 1] + 1
            found.append(WordingHit(term, kind, lang, start, end, text[start:end]))
    hits: list[WordingHit] = []
    blocked_spans = [(h.start, h.end) for h in found if h.kind == "blocked"]
    for hit in sorted(found, key=lambda h: (h.start, h.kind != "blocked", -(h.end - h.start))):
        if any(h.start <= hit.start and hit.end <= h.end for h in hits):
            continue  # the same words, found by another term or language (« prison·s »)
        if hit.kind == "review" and any(s <= hit.start and hit.end <= e for s, e in blocked_spans):
            continue
        hits.append(hit)
    return hits


def blocked_terms(text: str) -> list[str]:
    """The blocked terms found in ``text`` (empty list when the text may be published)."""
    return [hit.term for hit in scan(text) if hit.kind == "blocked"]


# "ne pas", "ne sait pas", "ne fume jamais", "n'arrive pas", "manque de", and the same
# openings in English and Italian (REF-09: indicators describe what a person does).
_DEFICIT = re.compile(
    r"^(?:"
    r"ne\s+(?:\S+\s+)?(?:pas|jamais|plus|guere)\b"
    r"|n'\S+\s+(?:pas|jamais|plus|guere)\b"
    r"|manqu\w*\b|incapable\b|absence\s+de\b"
    r"|(?:does|do|did|is|are)\s*n[o']t\b|cannot\b|can't\b|never\b|unable\b|lacks?\b|lacking\b"
    r"|non\s|manca\w*\b|incapace\b"
    r")"
)


def is_deficit_phrasing(text: str) -> bool:
    """True when ``text`` opens on a lack ("ne pas…", "ne sait pas…", "manque de…").

    Leading spaces, bullets, dashes and quotes are ignored.
    """
    folded = normalize(text).lstrip(" \t\r\n-*•·«»\"'“”:–—")
    return bool(_DEFICIT.match(folded))


# --- Sensitive information in free text (REQUIREMENTS OBS-07, PRIV-01) ----------------
# Health, disability, family, social, benefit, housing, residence and justice words that do
# not belong in a competence file. A hit asks the author to rephrase; it never stores silently.
SENSITIVE: tuple[str, ...] = (
    # health and disability
    "santé mentale",
    "malade",
    "maladie",
    "dépression",
    "dépressif",
    "déprime",
    "anxiété",
    "burn-out",
    "psychiatre",
    "psychiatrie",
    "psychologue",
    "médecin",
    "médicament",
    "hôpital",
    "hospitalisation",
    "hospitalisé",
    "arrêt maladie",
    "enceinte",
    "grossesse",
    "alcool",
    "alcoolique",
    "drogue",
    "cannabis",
    "addiction",
    "addict",
    "sevrage",
    "handicap",
    "handicapé",
    "RQTH",
    "MDPH",
    "invalidité",
    "diabète",
    "cancer",
    "VIH",
    # justice
    "prison",
    "détention",
    "détenu",
    "incarcération",
    "incarcéré",
    "casier",
    "judiciaire",
    "tribunal",
    "condamnation",
    "condamné",
    "probation",
    "SPIP",
    "garde à vue",
    "police",
    "plainte",
    "TIG",
    # social situation, benefits, housing, residence, family
    "RSA",
    "CAF",
    "allocation",
    "allocataire",
    "minima sociaux",
    "dette",
    "surendettement",
    "huissier",
    "expulsion",
    "SDF",
    "sans-abri",
    "hébergement d'urgence",
    "réfugié",
    "demandeur d'asile",
    "titre de séjour",
    "sans-papiers",
    "divorce",
    "violence",
    "violences conjugales",
    "ASE",
    "garde des enfants",
    "religion",
    "ramadan",
    "syndicat",
)
_SENSITIVE_PATTERNS = tuple((term, _compile(term, "fr")) for term in SENSITIVE)


def sensitive_terms(text: str) -> list[str]:
    """The sensitive words found in a free-text comment, in reading order, without repeats."""
    folded, _origin = _fold(text)
    hits = sorted(
        (match.start(), term)
        for term, pattern in _SENSITIVE_PATTERNS
        for match in [pattern.search(folded)]
        if match
    )
    seen: list[str] = []
    for _start, term in hits:
        if term not in seen:
            seen.append(term)
    return seen
