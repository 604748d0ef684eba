"""A missing browser or validator fails in CI and skips, with a hint, elsewhere."""

import pytest

from tests.tools import require_tool


def test_missing_tool_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is not available; install it with"):
        require_tool(None, "Chromium", "sudo apt-get install chromium")


def test_missing_tool_skips_with_an_install_hint_elsewhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="sudo apt-get install chromium"):
        require_tool(None, "Chromium", "sudo apt-get install chromium")


def test_present_tool_is_returned(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require_tool("/usr/bin/chromium", "Chromium", "-") == "/usr/bin/chromium"
