"""Author profiles: parsing, errors that name the file, and matching articles."""

import logging
from pathlib import Path

from pelican.settings import read_settings

from authors.authors import load_profiles
from tests.support import ROOT, build_site

TEST_DATA = Path(__file__).parent / "test_data"


def profiles_of(case):
    settings = read_settings(
        str(ROOT / "pelicanconf.py"),
        override={"PATH": str(TEST_DATA / case), "AUTHOR_PROFILES_PATH": "authors"},
    )
    return load_profiles(settings)


def test_complete_profile_is_read():
    anna = profiles_of("profiles")["anna-jansen"]
    assert anna.name == "Anna Jansen"
    assert anna.role == "Adviseur verandermanagement"
    assert anna.photo == "images/anna.svg"
    assert anna.photo_alt == "Portret van Anna Jansen"
    assert anna.links == [
        ("LinkedIn", "https://www.linkedin.com/in/anna-jansen-voorbeeld"),
        ("Eigen website", "https://anna.example"),
    ]
    assert anna.bio == "<p>Anna helpt teams <em>verder</em>.</p>"


def test_profile_errors_name_the_file_and_the_field(caplog):
    with caplog.at_level(logging.ERROR):
        profiles = profiles_of("profiles")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("zonder-naam.md" in e and "field 'Name' is missing" in e for e in errors)
    assert any("kapotte-link.md" in e and "field 'Link'" in e and "alleen-een-woord" in e
               for e in errors)
    assert any("kapotte-link.md" in e and "unknown field 'Twitter'" in e for e in errors)
    assert any("foto-ontbreekt.md" in e and "field 'Photo'" in e and "images/fien.jpg" in e
               for e in errors)
    assert "zonder-naam" not in profiles
    assert profiles["foto-ontbreekt"].photo == ""
    assert profiles["kapotte-link"].links == []


def test_article_may_name_its_author_by_name_or_by_slug(tmp_path):
    site = build_site("pelicanconf.py", tmp_path, PATH=str(TEST_DATA / "by_name"))
    assert site.messages() == []
    author_page = site.soup("auteur/anna-jansen/")
    titles = sorted(h.get_text(strip=True) for h in author_page.select(".card__title"))
    assert titles == ["Auteur bij naam genoemd", "Auteur bij slug genoemd"]
    assert author_page.h1.get_text() == "Anna Jansen"
    assert [p.name for p in (tmp_path / "auteur").iterdir()] == ["anna-jansen"]
    article = site.soup("2024/auteur-bij-slug-genoemd/")
    assert article.select_one("a[rel=author]").get_text() == "Anna Jansen"
    assert "<p>Anna helpt teams <em>verder</em>.</p>" in str(article.select_one(".author-box"))
