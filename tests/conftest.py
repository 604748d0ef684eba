"""Session fixtures: the sample site built once with dev and once with publish settings."""

import pytest

from tests.support import build_site, publish_site


@pytest.fixture(scope="session")
def dev_site(tmp_path_factory):
    return build_site("pelicanconf.py", tmp_path_factory.mktemp("dev") / "output")


@pytest.fixture(scope="session")
def published_site(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("publish") / "output")
