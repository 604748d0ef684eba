"""The output link checker finds missing pages, images and anchors, and nothing else."""

from content_checks.linkcheck import check_output
from tests.support import write_file

SITE = "https://www.voorbeeld.example"


def test_each_kind_of_broken_link_is_reported_once(tmp_path):
    write_file(tmp_path / "a" / "index.html", '<main id="inhoud"><p id="x">A</p></main>')
    write_file(tmp_path / "img" / "logo.svg", "<svg/>")
    write_file(
        tmp_path / "index.html",
        '<a href="#top">boven</a><h1 id="top">Home</h1>'
        '<a href="a/">goed</a> <a href="a/#x">goed anker</a> <a href="/a/index.html">goed</a>'
        f'<a href="{SITE}/a/">absoluut goed</a> <a href="https://elders.example/">extern</a>'
        '<a href="mailto:info@voorbeeld.example">mail</a> <img src="img/logo.svg" alt="">'
        '<a href="b/">weg</a> <a href="a/#nee">fout anker</a> <a href="#ook-nee">fout</a>'
        f'<img src="img/weg.png" alt=""> <a href="{SITE}/c/">absoluut weg</a>',
    )
    broken = {(b.page, b.url) for b in check_output(tmp_path, SITE)}
    assert broken == {
        ("index.html", "b/"),
        ("index.html", "a/#nee"),
        ("index.html", "#ook-nee"),
        ("index.html", "img/weg.png"),
        ("index.html", f"{SITE}/c/"),
    }


def test_links_from_nested_pages_resolve_relative_to_that_page(tmp_path):
    write_file(tmp_path / "2024" / "stuk" / "index.html",
               '<a href="../../over-ons/">over</a> <a href="../../nergens/">nergens</a>')
    write_file(tmp_path / "over-ons" / "index.html", "<p>Over ons</p>")
    assert [(b.url, b.reason) for b in check_output(tmp_path)] == [
        ("../../nergens/", "no such file")
    ]


def test_paths_served_by_the_service_are_not_files(tmp_path):
    write_file(tmp_path / "index.html", f'<a href="{SITE}/volg/afmelden/">af</a> <a href="/volg/">volg</a>')
    assert check_output(tmp_path, SITE, ("/volg/",)) == []
    assert len(check_output(tmp_path, SITE)) == 2
