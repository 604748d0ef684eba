"""The Nu HTML Checker (vnu) finds no error on any page of either build."""

import pytest

from tests.tools import vnu_errors

pytestmark = pytest.mark.validator


@pytest.mark.parametrize("site", ["dev_site", "published_site"])
def test_every_page_is_valid_html5(site, request):
    built = request.getfixturevalue(site)
    assert len(built.html_pages()) > 30
    assert vnu_errors(built.output) == []


def test_validator_catches_an_invalid_page(tmp_path):
    (tmp_path / "kapot.html").write_text(
        "<!DOCTYPE html><html lang=nl><head><title>x</title></head>"
        "<body><p><div>blok in alinea</div></p><img src=a.png></body></html>",
        encoding="utf-8",
    )
    errors = vnu_errors(tmp_path)
    assert any("alt" in error for error in errors), errors
