"""The importer tests' fixtures: their own small exports and pages, by name."""

from pathlib import Path

import pytest

TEST_DATA = Path(__file__).parent / "test_data"


@pytest.fixture
def data():
    return lambda name: TEST_DATA / name
