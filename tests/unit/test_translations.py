"""Translations: French is the source, the English catalogue is complete and current.

Everything but the last test reads files only (no app, no database). When a test here
fails after you added or changed a French string, run the commands it prints.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import ExtractMessages
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LOCALES = ("fr", "en")

# Babel skips folders whose name starts with "_" unless told which folders to ignore:
# without --ignore-dirs, app/web/templates/_macros would never be extracted.
IGNORE_DIRS = ".* __pycache__ node_modules"
EXTRACT = (
    ".venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext "
    f"--ignore-dirs '{IGNORE_DIRS}' -o app/translations/messages.pot ."
)
UPDATE = (
    ".venv/bin/pybabel update -i app/translations/messages.pot -d app/translations "
    "--no-fuzzy-matching --ignore-obsolete"
)
COMPILE = ".venv/bin/pybabel compile -f -d app/translations --statistics"
FIX = f"""
To fix it, from the project root (/work/main):
    {EXTRACT}
    {UPDATE}
then translate every new (empty) entry of app/translations/en/LC_MESSAGES/messages.po
(keep each %(name)s placeholder exactly; leave the French catalogue's msgstr empty, French
is the source), and finally:
    {COMPILE}
"""
# A gettext call with a literal string, as written in app/**.py and the templates.
MARKED = re.compile(
    r"""(?<![\w.])(?:_|_l|gettext|lazy_gettext|ngettext|lazy_ngettext|pgettext)\(\s*[rbu]?["']"""
)

# A printf-style conversion: %(name)s, %s, %d, %% ... (what `%` formatting consumes).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")

Key = tuple[object, str | None]


def _po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _catalogue(locale: str) -> Catalog:
    return _po(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")


def _key(message: Message) -> Key:
    # A plural entry's id is a tuple in a .po file, a list when read back from a .mo file.
    msgid = tuple(message.id) if isinstance(message.id, list) else message.id
    return (msgid, message.context)


def _strings(message: Message) -> tuple[str, ...]:
    """The translation's forms (one, or one per plural form), as a tuple."""
    return tuple(_texts(message.string))


def _translated(message: Message) -> bool:
    """Every form of the entry is filled in."""
    forms = _strings(message)
    return bool(forms) and all(forms)


def _keys(catalog: Catalog) -> set[Key]:
    return {_key(m) for m in catalog if m.id}


def _show(keys: set[Key], limit: int = 60) -> str:
    lines = [f"    {key[0]!r}" + (f" (context {key[1]!r})" if key[1] else "") for key in keys]
    lines.sort()
    more = [f"    … and {len(lines) - limit} more"] if len(lines) > limit else []
    return "\n".join(lines[:limit] + more)


def _where(message: Message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:2]) or "?"


def _texts(value: object) -> list[str]:
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return [str(value)] if value else []


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Run the very `pybabel extract` command of FIX, in process, into a temporary file."""
    output = tmp_path_factory.mktemp("i18n") / "fresh.pot"
    command = ExtractMessages()
    command.mapping_file = str(ROOT / "babel.cfg")
    command.keywords = ["_l", "lazy_gettext"]
    command.ignore_dirs = IGNORE_DIRS
    command.output_file = str(output)
    command.input_paths = [str(ROOT)]
    command.finalize_options()
    command.run()
    return _po(output)


def test_extraction_covers_every_file_with_marked_strings(fresh_template: Catalog) -> None:
    """babel.cfg and the extract options reach every file of app/ that marks a string."""
    extracted = {
        Path(path).resolve().relative_to(ROOT).as_posix()
        for message in fresh_template
        for path, _line in message.locations
    }
    marking = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "app").rglob("*")
        if path.suffix in {".py", ".html", ".txt", ".xml", ".jinja"}
        and "__pycache__" not in path.parts
        and MARKED.search(path.read_text(encoding="utf-8", errors="replace"))
    }
    forgotten = sorted(marking - extracted)
    assert marking, "no file of app/ marks a string: is the MARKED pattern still right?"
    assert not forgotten, (
        "These files mark strings for translation, but the extraction never reads them "
        "(add their pattern to babel.cfg, or check --ignore-dirs):\n"
        + "\n".join(f"    {path}" for path in forgotten)
        + "\n"
        + FIX
    )


def test_template_lists_exactly_the_strings_of_the_sources(fresh_template: Catalog) -> None:
    """messages.pot equals a fresh extraction of app/**.py and the templates (babel.cfg)."""
    fresh = _keys(fresh_template)
    committed = _keys(_po(TEMPLATE))
    assert fresh, "the extraction found no string at all: is babel.cfg still right?"
    missing = fresh - committed
    stale = committed - fresh
    assert not missing and not stale, (
        "app/translations/messages.pot is out of date with the sources.\n"
        + (
            f"{len(missing)} string(s) marked in the code but missing from it:\n{_show(missing)}\n"
            if missing
            else ""
        )
        + (
            f"{len(stale)} string(s) in it but no longer in the code:\n{_show(stale)}\n"
            if stale
            else ""
        )
        + FIX
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_every_string_of_the_template(locale: str) -> None:
    """Each language's messages.po was updated from the current messages.pot."""
    template = _keys(_po(TEMPLATE))
    catalogue = _keys(_catalogue(locale))
    missing = template - catalogue
    extra = catalogue - template
    assert not missing and not extra, (
        f"app/translations/{locale}/LC_MESSAGES/messages.po does not follow messages.pot.\n"
        + (f"Missing:\n{_show(missing)}\n" if missing else "")
        + (f"Not in the template any more:\n{_show(extra)}\n" if extra else "")
        + FIX
    )


def test_english_catalogue_is_fully_translated() -> None:
    """No English entry is empty or fuzzy: every screen can be read in English."""
    problems = []
    for message in _catalogue("en"):
        if not message.id:
            continue
        texts = _texts(message.string)
        if message.fuzzy:
            problems.append(
                f"    fuzzy (check, then remove the flag): {message.id!r}  [{_where(message)}]"
            )
        elif not texts or not all(texts):
            problems.append(f"    untranslated: {message.id!r}  [{_where(message)}]")
    assert not problems, (
        f"{len(problems)} English entr(y/ies) to translate in "
        "app/translations/en/LC_MESSAGES/messages.po:\n" + "\n".join(sorted(problems)) + "\n" + FIX
    )


def test_english_keeps_the_placeholders_of_the_french() -> None:
    """Each msgstr has the same %(name)s placeholders as its msgid (else rendering breaks)."""
    problems = []
    for message in _catalogue("en"):
        if not message.id or not message.string:
            continue
        sources = _texts(message.id)
        for i, text in enumerate(_texts(message.string)):
            # Each plural form against its own French form (the last one for further forms).
            expected = _placeholders(sources[min(i, len(sources) - 1)])
            found = _placeholders(text)
            if found != expected:
                problems.append(
                    f"    {message.id!r} -> {text!r}: expected {sorted(expected.elements())}, "
                    f"found {sorted(found.elements())}"
                )
    assert not problems, "Placeholders differ in the English catalogue:\n" + "\n".join(problems)


def test_french_catalogue_leaves_the_source_text_alone() -> None:
    """French is the source language: fix a French text in the code, not in fr/messages.po."""
    translated = [m.id for m in _catalogue("fr") if m.id and any(_texts(m.string))]
    assert not translated, (
        "app/translations/fr/LC_MESSAGES/messages.po must keep empty msgstr (French is the "
        "source: change the text where it is marked with _() instead):\n"
        + "\n".join(f"    {text!r}" for text in translated)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_its_po_file(locale: str) -> None:
    """The .mo the app loads holds exactly the translations of the .po file."""
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    mo_path = folder / "messages.mo"
    assert mo_path.exists(), f"{mo_path} is missing. Run:\n    {COMPILE}\n(make install does it)."
    with mo_path.open("rb") as handle:
        compiled = {_key(m): _strings(m) for m in read_mo(handle) if m.id}
    expected = {
        _key(m): _strings(m)
        for m in _po(folder / "messages.po")
        if m.id and _translated(m) and not m.fuzzy
    }
    # An untranslated plural entry is compiled with the source text as its forms: that is
    # the same as leaving it out (gettext falls back to the source).
    fallback = {
        key
        for key, forms in compiled.items()
        if key not in expected and forms == (key[0] if isinstance(key[0], tuple) else (key[0],))
    }
    stale = {
        key
        for key in expected.keys() | (compiled.keys() - fallback)
        if expected.get(key) != compiled.get(key)
    }
    assert not stale, (
        f"{mo_path} is older than its .po file ({len(stale)} difference(s)):\n{_show(stale)}\n"
        f"Run:\n    {COMPILE}\n(make install and make test do it)."
    )


@pytest.mark.parametrize(
    ("accept_language", "lang", "shown", "absent"),
    [
        ("en", "en", ("Sign in", "Skip to content", "Username or email address"), "Se connecter"),
        ("en-GB,en;q=0.9", "en", ("Sign in", "Lost your code?"), "Code perdu"),
        (
            "fr",
            "fr",
            ("Se connecter", "Aller au contenu", "Identifiant ou adresse e-mail"),
            "Sign in",
        ),
        ("de", "fr", ("Se connecter",), "Sign in"),
    ],
)
def test_login_page_follows_the_browser_language(
    app: Flask, accept_language: str, lang: str, shown: tuple[str, ...], absent: str
) -> None:
    """Accept-Language picks the catalogue; French when the browser asks for another language."""
    response = app.test_client().get("/connexion", headers={"Accept-Language": accept_language})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    for text in shown:
        assert text in page, f"{text!r} missing from the login page in {lang}"
    assert absent not in page
