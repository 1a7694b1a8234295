"""Fill zh_Hans msgstr from a Python mapping file: `python scripts/apply_translations.py MAP.py`.

MAP.py defines T = {msgid: translation} and, for plurals, PLURAL = {msgid: translation}.
Entries already translated are left alone. Fuzzy entries (makemessages' guesses from a
similar msgid) are never trusted: the mapping's translation replaces them, or they are
emptied. What is still missing is listed at the end.
"""

import runpy
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main(mapping_path: str) -> None:
    mapping = runpy.run_path(mapping_path)
    singular, plural = mapping.get("T", {}), mapping.get("PLURAL", {})
    po = polib.pofile(str(PO))
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    for entry in po:
        fuzzy = "fuzzy" in entry.flags
        if entry.msgid_plural:
            if entry.msgid in plural and (fuzzy or not entry.msgstr_plural.get(0)):
                entry.msgstr_plural = {0: plural[entry.msgid]}
            elif fuzzy:
                entry.msgstr_plural = {0: ""}
        elif entry.msgid in singular and (fuzzy or not entry.msgstr):
            entry.msgstr = singular[entry.msgid]
        elif fuzzy:
            # makemessages guessed from a similar string; such guesses are usually wrong
            # (e.g. "events" -> 客服管理). Drop the guess so it is listed as missing below.
            entry.msgstr = ""
        if fuzzy:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
    po.save()
    missing = [e.msgid for e in po.untranslated_entries()]
    print(f"{len(po.translated_entries())} translated, {len(missing)} missing")
    for msgid in missing:
        print("  missing:", repr(msgid))


if __name__ == "__main__":
    main(sys.argv[1])
