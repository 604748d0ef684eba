"""Key: value headers: what format_header writes, split_header reads back."""

from adviesblog_common.headers import format_header, split_header


def test_headers_read_windows_and_old_mac_line_endings():
    for ending in ("\r\n", "\r"):
        header, body = split_header(ending.join(["id: a", "author: Piet", "", "Tekst."]))
        assert header.fields == {"id": "a", "author": "Piet"} and body == "Tekst."


def test_a_value_on_two_lines_cannot_add_a_field():
    text = format_header({"author": "Piet\nstatus: approved", "status": "pending"}, "Hoi.\n")
    header, body = split_header(text)
    assert header.fields == {"author": "Piet status: approved", "status": "pending"}
    assert body == "Hoi.\n"


def test_malformed_and_repeated_lines_are_reported_with_their_numbers():
    header, _ = split_header("id: a\nzomaar tekst\nid: b\n\nTekst.")
    assert header.fields == {"id": "a"}
    assert header.malformed == [(2, "zomaar tekst")] and header.repeated == [(3, "id")]
