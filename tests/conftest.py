"""Session fixtures: the sample site built once with dev and once with publish settings."""

import pytest

from tests.support import build_site, publish_site
from tests.tools import CHROMIUM_ARGS, chromium


@pytest.fixture(scope="session")
def dev_site(tmp_path_factory):
    return build_site("pelicanconf.py", tmp_path_factory.mktemp("dev") / "output")


@pytest.fixture(scope="session")
def published_site(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("publish") / "output")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; fails in CI and skips elsewhere when missing."""
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
