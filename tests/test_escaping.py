"""Author text with quotes and ampersands stays intact inside HTML attributes."""

import json

from tests.support import build_site, write_file

TITLE = 'Zeg "nee" & bedoel het'
SUMMARY = 'Over "ja, maar" zeggen & toch <em>nee</em> bedoelen.'


def test_quotes_and_ampersands_survive_in_meta_attributes(tmp_path):
    content = tmp_path / "content"
    write_file(content / "authors" / "anna-jansen.md", "Name: Anna \"AJ\" Jansen\n\nBio.\n")
    write_file(
        content / "articles" / "2024" / "zeg-nee.md",
        f"Title: {TITLE}\nDate: 2024-05-01\nAuthor: anna-jansen\nSummary: {SUMMARY}\n\nTekst.\n",
    )
    site = build_site("pelicanconf.py", tmp_path / "output", PATH=str(content))
    assert site.messages() == []
    soup = site.soup("2024/zeg-nee-bedoel-het/")
    plain_summary = 'Over "ja, maar" zeggen & toch nee bedoelen.'
    assert soup.find("meta", attrs={"name": "description"})["content"] == plain_summary
    assert soup.find("meta", property="og:description")["content"] == plain_summary
    assert soup.find("meta", property="og:title")["content"] == TITLE
    assert soup.title.get_text().startswith(TITLE)
    ld = json.loads(soup.find("script", type="application/ld+json").string)
    assert ld["headline"] == TITLE
    assert ld["author"][0]["name"] == 'Anna "AJ" Jansen'
    assert soup.find("img", class_="author-box__photo") is None
