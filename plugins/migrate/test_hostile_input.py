"""XSS payloads in an old post and its comments come out inert in the built site."""

import pytest

from migrate import import_wordpress
from tests.support import comment_files, publish_site, snapshot

ARTICLE = "2020/veilig-importeren/"


@pytest.fixture(scope="module")
def site(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("xss")
    content = folder / "content"
    import_wordpress(request.path.parent / "test_data" / "wxr_xss_payloads.xml", content)
    return content, publish_site(folder / "output", PATH=str(content))


def test_no_script_handler_svg_iframe_or_style_survives(site):
    soup = site[1].soup(ARTICLE)
    scripts = [s for s in soup.find_all("script") if s.get("type") != "application/ld+json"]
    assert scripts == []
    # The theme's own <style> (brand colours) is in <head>; nothing may add one in <main>.
    assert soup.select_one("main").find_all(["svg", "iframe", "object", "embed", "style"]) == []
    for element in soup.select("main *"):
        assert not [a for a in element.attrs if a.lower().startswith("on")], element
        assert "style" not in element.attrs, element


def test_no_javascript_url_survives_in_any_form(site):
    soup = site[1].soup(ARTICLE)
    for element in soup.find_all(True):
        for attribute in ("href", "src", "action", "formaction"):
            value = "".join(element.get(attribute, "").split()).lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), element


def test_payloads_that_were_text_stay_visible_text(site):
    main = site[1].soup(ARTICLE).select_one("main")
    text = main.get_text()
    assert "<script>alert('tekst')</script>" in text
    assert "[klik hier](javascript:alert('md'))" in text
    assert "gevaarlijke link" in text and main.find("a", string="gevaarlijke link") is None
    assert main.find("a", string="goede link")["href"] == "https://goed.example/"


def test_the_title_and_author_name_lose_their_markup(site):
    soup = site[1].soup(ARTICLE)
    assert soup.select_one("main h1").get_text(strip=True) == "Veilig importeren"
    assert soup.find("li", id="reactie-wxr-1").select_one(".comment__meta").get_text().split()[0] == "Kwaadwillend"


def test_no_source_file_holds_a_payload(site):
    for path, data in snapshot(site[0]).items():
        text = data.decode().lower()
        for payload in ("<script", "onerror", "onload", "onclick", "onmouseover", "<svg", "<iframe", "style="):
            assert payload not in text, f"{path}: {payload}"


def test_a_hostile_id_cannot_leave_content_or_add_a_field(site):
    content = site[0]
    assert not list(content.parent.glob("**/kwaad*"))
    pending = [f for f in comment_files(content).values() if f["status"] == "pending"]
    assert len(pending) == 1 and pending[0]["id"].startswith("wxr-h")
    assert pending[0]["path"].parent == content / "comments" / "veilig-importeren"
    assert pending[0]["author"] == "Padzoeker status: approved"
    # Its parent "../x" is not in the export: shown at the top level, no parent kept.
    assert pending[0].get("parent", "") == ""
