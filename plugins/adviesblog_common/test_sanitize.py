"""The private-data filter: addresses of any script are removed, ordinary text is not."""

import pytest

from adviesblog_common.sanitize import EMAIL_PLACEHOLDER, has_private_data, remove_private_data


@pytest.mark.parametrize("address", ["jan@voorbeeld.nl", "zoë@voorbeeld.nl", "ÿ@voorbeeld.nl",
                                     "jan@café.nl", "info@日本.jp", "a.b+c@sub.voorbeeld.co.uk"])
def test_an_address_in_any_script_is_removed(address):
    text = f"Mail {address} gerust."
    assert has_private_data(text)
    assert remove_private_data(text) == f"Mail {EMAIL_PLACEHOLDER} gerust."


@pytest.mark.parametrize("text", ["Om 10@20 uur", "@collega's", "prijs: 3@4.50", "x@y",
                                  "python_3@home"])
def test_text_that_is_no_address_stays(text):
    assert not has_private_data(text)
    assert remove_private_data(text) == text
