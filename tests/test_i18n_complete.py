"""Simplified Chinese is complete: every string the code or a template marks for
translation has a zh_Hans translation, and the compiled .mo matches the .po.

This reads the sources itself (Django's template tokenizer, Python's ast), so a string
added without running `make messages` fails here, not in front of a user.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SKIP_DIRS = {".venv", "var", "migrations", "tests", "bench", "node_modules", ".git"}
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext",
                 "pgettext_lazy", "npgettext", "npgettext_lazy"}  # fmt: skip
_LIT = r"u?'(?:[^'\\]|\\.)*'"
TEMPLATE_CALL = re.compile(rf"\b(n?p?gettext)\(({_LIT})(?:, ({_LIT}))?(?:, ({_LIT}))?")


def _project_files(pattern: str) -> list[Path]:
    return [p for p in ROOT.rglob(pattern) if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)]


def template_msgids() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in _project_files("*.html"):
        for match in TEMPLATE_CALL.finditer(templatize(path.read_text(), origin=str(path))):
            name = match.group(1)
            args = [ast.literal_eval(a.lstrip("u")) for a in match.groups()[1:] if a]
            if name.startswith(("pgettext", "npgettext")):
                found.add((args[0], args[1]))
            else:
                found.add((None, args[0]))
    return found


def python_msgids() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in _project_files("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in GETTEXT_NAMES or not node.args:
                continue
            literals = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if not literals:
                continue
            if name.startswith(("pgettext", "npgettext")):
                found.add((literals[0], literals[1]))
            else:
                found.add((None, literals[0]))
    return found


@pytest.fixture(scope="module")
def catalog() -> polib.POFile:
    return polib.pofile(str(PO))


def _translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def test_every_marked_string_has_a_chinese_translation(catalog):
    entries = {(e.msgctxt, e.msgid): e for e in catalog if not e.obsolete}
    missing, untranslated = [], []
    for key in sorted(template_msgids() | python_msgids(), key=str):
        entry = entries.get(key)
        if entry is None:
            missing.append(key[1])
        elif not _translated(entry) or "fuzzy" in entry.flags:
            untranslated.append(key[1])
    assert not missing, f"not in {PO.name} (run `make messages`): {missing}"
    assert not untranslated, f"no zh_Hans translation yet: {untranslated}"


def test_the_checker_sees_template_and_python_strings():
    # Guards the test above against silently extracting nothing.
    assert (None, "Workbench") in template_msgids()
    assert (None, "Unknown state.") in python_msgids()
    assert any(m.startswith("%(n)s conversation") for _c, m in template_msgids())


def test_compiled_catalog_matches_the_po(catalog):
    compiled = polib.mofile(str(MO))
    in_mo = {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in compiled}
    stale = [
        e.msgid
        for e in catalog.translated_entries()
        if in_mo.get((e.msgctxt, e.msgid))
        != (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()})
    ]
    assert not stale, f"{MO.name} is stale (run `make messages`): {stale[:10]}"
