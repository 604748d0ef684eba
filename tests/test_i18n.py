"""The Dutch catalogue is complete and in step with the templates."""

import subprocess
import sys

from babel.messages.pofile import read_po

from tests.support import ROOT

TRANSLATIONS = ROOT / "theme" / "translations"


def read_catalogue(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def message_ids(catalogue) -> set:
    return {message.id if isinstance(message.id, str) else message.id[0]
            for message in catalogue if message.id}


def test_every_dutch_string_is_translated_and_not_fuzzy():
    catalogue = read_catalogue(TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po")
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
    assert len(catalogue) > 20
    assert problems == []


def test_catalogue_covers_every_string_in_the_templates(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
         "-F", str(TRANSLATIONS / "babel.cfg"), "-k", "_", "-o", str(fresh),
         str(ROOT / "theme" / "templates")],
        check=True,
    )
    in_templates = message_ids(read_catalogue(fresh))
    committed = message_ids(read_catalogue(TRANSLATIONS / "messages.pot"))
    dutch = message_ids(read_catalogue(TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"))
    assert in_templates, "the extractor found no strings; is babel.cfg right?"
    assert in_templates - committed == set(), "run `invoke i18n-update`"
    assert in_templates - dutch == set(), "translate the new strings in messages.po"
    assert dutch - in_templates == set(), "obsolete strings in messages.po"
