"""The mailer: messages as they arrive at a real SMTP server, and a session that retries.

Every sending test talks to an aiosmtpd sink on 127.0.0.1 in this process and
reads what it caught with the email package; the sink misbehaves on request
(451, 550, a dropped connection) to show each way a send can fail.
"""

import base64
import email
import random
import re
import socket
from email import policy
from email.utils import parsedate_to_datetime

import dkim
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.mailer import (
    DkimKey,
    EditionMessage,
    PermanentFailure,
    SmtpSession,
    SmtpSettings,
    TemporaryFailure,
    UncertainDelivery,
    transactional_message,
    wire_form,
)
from service.smtp_sink import start_sink

PLACEHOLDER = "https://www.ruimte-en-richting.example/volg/afmelden/"
PERSONAL_URL = "https://www.ruimte-en-richting.example/volg/afmelden/Zx8kq3v-token_42/"
READER = "lezer@voorbeeld.nl"
SENDER = "bounces@ruimte-en-richting.example"
LONG_WORD = "x" * 5000
EDITION_TEXT = (
    "Samen beslissen zonder eindeloos overleg\n"
    "========================================\n\n"
    "Één besluit per overleg is genoeg — ‘echt’.\n"
    ".Een regel die met een punt begint\n"
    ".\n"
    "From the start: a line that mbox would mangle\n"
    "Spaties aan het eind   \n"
    "a=b en 100% zeker\n"
    f"{LONG_WORD}\n\n"
    f"Afmelden: {PLACEHOLDER}\n"
)
EDITION_HTML = (
    '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8"></head>\n'
    '<body style="margin:0"><p style="color:#333">Één besluit per overleg — ‘echt’.</p>\n'
    f"<p>{LONG_WORD}</p>\n"
    f'<p><a href="{PLACEHOLDER}" style="color:#666">Afmelden</a></p></body></html>\n'
)
SUBJECT = "Één besluit per overleg: ‘samen beslissen’"
MAIL_FROM = "Ruimte & Richting <nieuws@ruimte-en-richting.example>"


def edition(**overrides) -> EditionMessage:
    arguments = dict(mail_from=MAIL_FROM, subject=SUBJECT, text=EDITION_TEXT, html=EDITION_HTML,
                     placeholder=PLACEHOLDER, list_id="volgen.ruimte-en-richting.example",
                     unsubscribe_mailto="afmelden@ruimte-en-richting.example",
                     reply_to="Anna Jansen <anna@ruimte-en-richting.example>",
                     message_id_domain="ruimte-en-richting.example")
    return EditionMessage(**dict(arguments, **overrides))


def personal(text: str) -> str:
    """``text`` as a subscriber gets it: their link, CRLF line ends."""
    return text.replace(PLACEHOLDER, PERSONAL_URL).replace("\n", "\r\n")


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def unfolded(message, name: str) -> str:
    return " ".join(str(message[name]).split())


@pytest.fixture
def sink(tmp_path):
    """A factory of sinks on 127.0.0.1, each with its own maildir, all stopped after the test."""
    started = []

    def start(**options):
        controller = start_sink(maildir=tmp_path / f"mail{len(started)}", **options)
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


def caught(controller) -> list[bytes]:
    return [path.read_bytes() for path in sorted(controller.handler.maildir.glob("*.eml"))]


class Sleeps(list):
    """A ``sleep`` that records the back-off instead of waiting it out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def session_for(controller, sleeps=None, **settings_overrides) -> SmtpSession:
    smtp = SmtpSettings(**dict(dict(host="127.0.0.1", port=controller.port, timeout=5,
                                    retries=3, backoff=1.0), **settings_overrides))
    return SmtpSession(smtp, sleep=sleeps if sleeps is not None else Sleeps())


# -- the message ----------------------------------------------------------------------


def test_edition_arrives_as_written_with_the_subscribers_link(sink):
    controller = sink()
    raw = edition().render(READER, PERSONAL_URL, message_id="<bericht-1@ruimte-en-richting"
                                                           ".example>")
    with session_for(controller) as session:
        session.send(SENDER, READER, raw)

    [arrived] = caught(controller)
    assert arrived == raw  # dot-stuffed on the way, unstuffed by the server
    message = parsed(arrived)
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    for part in (text, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert text.get_content() == personal(EDITION_TEXT)
    assert html.get_content() == personal(EDITION_HTML).replace(
        PERSONAL_URL, PERSONAL_URL.replace("&", "&amp;"))
    assert PLACEHOLDER + '"' not in arrived.decode("ascii")


def test_edition_headers(sink):
    raw = edition().render(READER, PERSONAL_URL)
    message = parsed(raw)
    assert str(message["From"]) == MAIL_FROM
    assert str(message["To"]) == READER
    assert str(message["Subject"]) == SUBJECT
    assert str(message["Reply-To"]) == "Anna Jansen <anna@ruimte-en-richting.example>"
    assert parsedate_to_datetime(str(message["Date"])).tzinfo is not None
    assert re.fullmatch(r"<[0-9a-f]{32}@ruimte-en-richting\.example>", str(message["Message-ID"]))
    assert str(message["MIME-Version"]) == "1.0"
    assert unfolded(message, "List-Unsubscribe") == (
        f"<{PERSONAL_URL}>, <mailto:afmelden@ruimte-en-richting.example?subject=afmelden>")
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(message["List-Id"]) == "Ruimte & Richting <volgen.ruimte-en-richting.example>"
    assert str(message["Auto-Submitted"]) == "auto-generated"
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head  # the subject as RFC 2047 encoded words
    assert message.defects == []


def test_every_message_id_is_new_unless_given():
    message = edition()
    first, second = (parsed(message.render(READER, PERSONAL_URL)) for _ in range(2))
    assert first["Message-ID"] != second["Message-ID"]
    given_id = parsed(message.render(READER, PERSONAL_URL, message_id="abc.1@ruimte.example"))
    assert str(given_id["Message-ID"]) == "<abc.1@ruimte.example>"


def test_lines_are_crlf_and_short_even_for_a_long_word():
    raw = edition().render(READER, PERSONAL_URL)
    assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
    lines = raw.split(b"\r\n")
    assert max(map(len, lines)) <= 998
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(map(len, body.split(b"\r\n"))) <= 76
    assert LONG_WORD.encode() not in raw


@pytest.mark.parametrize("mail_from, name, shown", [
    ("Ruimte, Richting <nieuws@ruimte.example>", "Ruimte, Richting", '"Ruimte, Richting"'),
    ('"Ruimte, Richting" <nieuws@ruimte.example>', "Ruimte, Richting", '"Ruimte, Richting"'),
    ('Zeg "hallo" <nieuws@ruimte.example>', 'Zeg "hallo"', r'"Zeg \"hallo\""'),
    ("Één & Twee <nieuws@ruimte.example>", "Één & Twee", "=?utf-8?"),
])
def test_display_names_are_quoted_or_encoded(mail_from, name, shown):
    raw = edition(mail_from=mail_from).render(READER, PERSONAL_URL)
    message = parsed(raw)
    assert message["From"].addresses[0].display_name == name
    assert message["From"].addresses[0].addr_spec == "nieuws@ruimte.example"
    assert f"From: {shown}".encode() in raw
    assert f"List-Id: {shown}".encode() in raw  # the list is named after the sender
    assert raw.split(b"\r\n\r\n")[0].isascii()


def test_a_url_with_an_ampersand_is_escaped_in_the_html_only():
    url = PERSONAL_URL + "?a=1&b=2"
    message = parsed(edition().render(READER, url))
    text, html = message.iter_parts()
    assert url in text.get_content()
    assert url.replace("&", "&amp;") in html.get_content()


@given(st.text(max_size=300), st.text(max_size=300))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_comes_back_exactly(before, after):
    """Lines without the link are encoded once per edition: the result must not show it."""
    text = f"{before}{PLACEHOLDER}{after}"
    message = parsed(edition(text=text).render(READER, PERSONAL_URL))
    decoded = message.get_body(("plain",)).get_content()
    expected = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    assert decoded == expected.replace(PLACEHOLDER, PERSONAL_URL)


def test_an_edition_without_the_placeholder_is_refused():
    with pytest.raises(ValueError, match="text part does not contain the placeholder"):
        edition(text="Geen afmeldlink hier.\n")
    with pytest.raises(ValueError, match="HTML part does not contain the placeholder"):
        edition(html="<p>Geen afmeldlink hier.</p>")


HOSTILE = "x@voorbeeld.nl\r\nBcc: iedereen@voorbeeld.nl"


@pytest.mark.parametrize("field, value, header", [
    ("mail_from", f"Nieuws <{HOSTILE}>", "From"),
    ("mail_from", "Nieuws\nBcc: x@y.nl <nieuws@ruimte.example>", "From"),
    ("subject", "Nieuw\r\nBcc: iedereen@voorbeeld.nl", "Subject"),
    ("subject", "Nul\x00byte", "Subject"),
    ("reply_to", HOSTILE, "Reply-To"),
    ("list_id", "volgen.ruimte.example>\r\nBcc: x@y.nl", "List-Id"),
    ("list_name", "Naam\rBcc: x@y.nl", "List-Id"),
    ("unsubscribe_mailto", HOSTILE, "List-Unsubscribe"),
    ("message_id_domain", "ruimte.example\r\nBcc: x@y.nl", "message_id_domain"),
])
def test_header_injection_in_an_edition_is_refused(field, value, header):
    with pytest.raises(ValueError, match=re.escape(header)):
        edition(**{field: value})


@pytest.mark.parametrize("arguments, header", [
    ({"recipient": HOSTILE}, "To"),
    ({"recipient": "a@b.nl, c@d.nl"}, "To"),
    ({"recipient": "lezer@voorbeeld.nl>"}, "To"),
    ({"unsubscribe_url": PERSONAL_URL + "\r\nBcc: x@y.nl"}, "List-Unsubscribe"),
    ({"unsubscribe_url": PERSONAL_URL + '"><script>'}, "List-Unsubscribe"),
    ({"unsubscribe_url": "javascript:alert(1)"}, "List-Unsubscribe"),
    ({"message_id": "<a@b>\r\nBcc: x@y.nl"}, "Message-ID"),
])
def test_header_injection_in_a_render_is_refused(arguments, header):
    with pytest.raises(ValueError, match=re.escape(header)):
        edition().render(**dict({"recipient": READER, "unsubscribe_url": PERSONAL_URL},
                                **arguments))


@pytest.mark.parametrize("field, value, header", [
    ("recipient", HOSTILE, "To"),
    ("subject", "Bevestig\nBcc: x@y.nl", "Subject"),
    ("mail_from", f"Naam <{HOSTILE}>", "From"),
    ("unsubscribe_url", "https://x.nl/\nBcc: x@y.nl", "List-Unsubscribe"),
])
def test_header_injection_in_a_transactional_mail_is_refused(field, value, header):
    arguments = dict(mail_from=MAIL_FROM, recipient=READER, subject="Bevestig je aanmelding",
                     text="Klik hier.\n", message_id_domain="ruimte.example")
    with pytest.raises(ValueError, match=re.escape(header)):
        transactional_message(**dict(arguments, **{field: value}))


def test_transactional_message(sink):
    controller = sink()
    text = f"Bevestig je aanmelding bij Ruimte & Richting:\n{PERSONAL_URL}\n\n{LONG_WORD}\n"
    raw = transactional_message(mail_from=MAIL_FROM, recipient=READER, subject="Één klik nog",
                                text=text, message_id_domain="ruimte.example")
    with session_for(controller) as session:
        session.send(SENDER, READER, raw)
    [arrived] = caught(controller)
    message = parsed(arrived)
    assert message.get_content_type() == "text/plain"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message.get_content() == text.replace("\n", "\r\n")
    assert str(message["Subject"]) == "Één klik nog"
    assert str(message["To"]) == READER
    assert str(message["Auto-Submitted"]) == "auto-generated"
    assert "List-Unsubscribe" not in message and "List-Id" not in message
    assert max(map(len, arrived.split(b"\r\n"))) <= 76


def test_transactional_message_with_list_headers():
    raw = transactional_message(mail_from=MAIL_FROM, recipient=READER, subject="Afmelden",
                                text="Tot ziens.", message_id_domain="ruimte.example",
                                unsubscribe_url=PERSONAL_URL,
                                unsubscribe_mailto="afmelden@ruimte.example",
                                list_id="volgen.ruimte.example")
    message = parsed(raw)
    assert unfolded(message, "List-Unsubscribe") == (
        f"<{PERSONAL_URL}>, <mailto:afmelden@ruimte.example?subject=afmelden>")
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(message["List-Id"]) == "Ruimte & Richting <volgen.ruimte.example>"
    assert message.get_content() == "Tot ziens."


def test_wire_form_stuffs_dots_and_mends_line_ends():
    stuffed = b"..begin\r\n...twee\r\nmidden.\r\nend\r\n"
    assert wire_form(b".begin\n..twee\r\nmidden.\rend") == stuffed
    assert wire_form(b"A: b\r\n\r\nklaar\r\n") == b"A: b\r\n\r\nklaar\r\n"


def test_settings_are_checked_and_keep_the_password_out_of_sight():
    with pytest.raises(ValueError, match="security"):
        SmtpSettings(security="tls")
    assert "geheim" not in repr(SmtpSettings(username="ik", password="geheim"))


# -- the session ----------------------------------------------------------------------


def test_one_connection_carries_every_message(sink):
    controller = sink()
    message = edition()
    with session_for(controller) as session:
        for number in range(3):
            recipient = f"lezer{number}@voorbeeld.nl"
            session.send(SENDER, recipient, message.render(recipient, PERSONAL_URL))
    assert controller.handler.sessions == 1
    assert [str(parsed(raw)["To"]) for raw in caught(controller)] == [
        "lezer0@voorbeeld.nl", "lezer1@voorbeeld.nl", "lezer2@voorbeeld.nl"]


@pytest.mark.parametrize("stage, commits", [("rcpt", 1), ("data", 2)])
def test_a_temporary_failure_is_retried_after_a_pause(sink, stage, commits):
    controller = sink(fail_first=1, fail_stage=stage)
    sleeps = Sleeps()
    calls = []
    with session_for(controller, sleeps, backoff=0.5) as session:
        session.send(SENDER, READER, edition().render(READER, PERSONAL_URL),
                     before_commit=lambda: calls.append(controller.handler.accepted))
    assert len(caught(controller)) == 1
    assert sleeps == [0.5]
    # A 451 after the data comes after before_commit ran: it runs again for the retry.
    assert calls == [0] * commits


def test_a_refused_recipient_is_a_permanent_failure_and_the_session_goes_on(sink):
    controller = sink(refuse=["weg@voorbeeld.nl"])
    message = edition()
    sleeps = Sleeps()
    with session_for(controller, sleeps) as session:
        with pytest.raises(PermanentFailure) as failure:
            session.send(SENDER, "weg@voorbeeld.nl",
                         message.render("weg@voorbeeld.nl", PERSONAL_URL))
        session.send(SENDER, READER, message.render(READER, PERSONAL_URL))
    assert failure.value.code == 550
    assert f"127.0.0.1:{controller.port}" in str(failure.value) and "550" in str(failure.value)
    assert [str(parsed(raw)["To"]) for raw in caught(controller)] == [READER]
    assert controller.handler.sessions == 1 and sleeps == []


def test_a_connection_lost_after_the_data_is_an_uncertain_delivery(sink):
    controller = sink(drop_after=1)
    message = edition()
    with session_for(controller) as session:
        with pytest.raises(UncertainDelivery, match=f"127.0.0.1:{controller.port}"):
            session.send(SENDER, "eerste@voorbeeld.nl",
                         message.render("eerste@voorbeeld.nl", PERSONAL_URL))
        session.send(SENDER, READER, message.render(READER, PERSONAL_URL))  # reconnects
    assert [str(parsed(raw)["To"]) for raw in caught(controller)] == [READER]
    assert controller.handler.sessions == 2


def free_port() -> int:
    """A port nobody listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("backoff, expected", [(1.0, [1, 2, 4, 8]), (20, [20, 40, 60, 60])])
def test_a_server_that_is_down_is_a_temporary_failure_after_doubling_pauses(backoff, expected):
    port = free_port()
    sleeps = Sleeps()
    session = SmtpSession(SmtpSettings(port=port, retries=4, backoff=backoff, timeout=2),
                          sleep=sleeps)
    with session, pytest.raises(TemporaryFailure, match=f"127.0.0.1:{port}") as failure:
        session.send(SENDER, READER, b"Subject: x\r\n\r\nx\r\n")
    assert sleeps == expected
    assert "5 attempts" in str(failure.value)


def test_before_commit_runs_before_the_end_of_the_data_and_can_stop_the_message(sink):
    controller = sink()
    message = edition()
    seen = []

    def refuse():
        raise RuntimeError("journal is full")

    with session_for(controller) as session:
        with pytest.raises(RuntimeError, match="journal is full"):
            session.send(SENDER, "niet@voorbeeld.nl",
                         message.render("niet@voorbeeld.nl", PERSONAL_URL), before_commit=refuse)
        session.send(SENDER, READER, message.render(READER, PERSONAL_URL),
                     before_commit=lambda: seen.append(len(caught(controller))))
    assert seen == [0]
    assert [str(parsed(raw)["To"]) for raw in caught(controller)] == [READER]


# -- DKIM -----------------------------------------------------------------------------


def der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def der_integers(*numbers: int) -> bytes:
    return der(0x30, b"".join(der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))
                              for n in numbers))


def probable_prime(bits: int, rng: random.Random) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if candidate % 65537 == 1:
            continue
        odd, twos = candidate - 1, 0
        while odd % 2 == 0:
            odd, twos = odd // 2, twos + 1
        for _ in range(20):  # Miller-Rabin
            check = pow(rng.randrange(2, candidate - 1), odd, candidate)
            if check in (1, candidate - 1):
                continue
            for _ in range(twos - 1):
                check = pow(check, 2, candidate)
                if check == candidate - 1:
                    break
            else:
                break
        else:
            return candidate


@pytest.fixture(scope="module")
def dkim_key():
    """A 1024-bit RSA test key, made here (no crypto library is installed; dkimpy's own
    key tool runs openssl): the PEM key and the DNS record that publishes it."""
    rng = random.Random(2024)
    p, q = probable_prime(512, rng), probable_prime(512, rng)
    n, e = p * q, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    private = der_integers(0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))
    lines = re.findall(b".{1,64}", base64.b64encode(private))
    pem = b"-----BEGIN RSA PRIVATE KEY-----\n" + b"\n".join(lines) + \
        b"\n-----END RSA PRIVATE KEY-----\n"
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der_integers(n, e))
    key = DkimKey(domain="ruimte-en-richting.example", selector="volg2024", private_key=pem)

    def dns(name, timeout=5):
        return record if name == b"volg2024._domainkey.ruimte-en-richting.example." else None

    return key, dns


def signed_headers(raw: bytes) -> list[str]:
    signature = parsed(raw)["DKIM-Signature"]
    tags = dict(part.strip().split("=", 1) for part in str(signature).split(";") if "=" in part)
    return [name.strip().lower() for name in "".join(tags["h"].split()).split(":")]


def test_dkim_signature_covers_the_list_headers_and_verifies(dkim_key, sink):
    key, dns = dkim_key
    controller = sink()
    raw = edition(dkim=key).render(READER, PERSONAL_URL)
    assert raw.startswith(b"DKIM-Signature: ")
    assert dkim.verify(raw, dnsfunc=dns)
    covered = signed_headers(raw)
    for name in ("from", "to", "subject", "date", "message-id", "list-unsubscribe",
                 "list-unsubscribe-post", "list-id"):
        assert covered.count(name) == 2, name  # over-signed: none can be added
    with session_for(controller) as session:
        session.send(SENDER, READER, raw)
    [arrived] = caught(controller)
    assert dkim.verify(arrived, dnsfunc=dns)


@pytest.mark.parametrize("change", [
    lambda raw: raw.replace(b"Subject: =?utf-8?", b"Subject: =?UTF-8?"),
    lambda raw: raw.replace(b"List-Unsubscribe: <https://www.", b"List-Unsubscribe: <https://"),
    lambda raw: raw.replace(b"MIME-Version: 1.0\r\n",
                            b"MIME-Version: 1.0\r\nList-Unsubscribe: <https://evil.example/>\r\n"),
    lambda raw: raw.replace(b"Afmelden", b"Aanmelden"),
])
def test_dkim_signature_fails_after_a_change(dkim_key, change):
    key, dns = dkim_key
    raw = edition(dkim=key).render(READER, PERSONAL_URL)
    changed = change(raw)
    assert changed != raw
    assert not dkim.verify(changed, dnsfunc=dns)


def test_transactional_message_is_signed_too(dkim_key):
    key, dns = dkim_key
    raw = transactional_message(mail_from=MAIL_FROM, recipient=READER, subject="Bevestig",
                                text="Klik.\n", message_id_domain="ruimte.example", dkim=key)
    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"To: lezer@", b"To: lezer2@"), dnsfunc=dns)


def test_a_dkim_key_that_is_no_key_is_refused():
    with pytest.raises(ValueError, match="not a PEM RSA key"):
        DkimKey(domain="ruimte.example", selector="s1", private_key=b"geen sleutel")
    with pytest.raises(ValueError, match="selector"):
        DkimKey(domain="ruimte.example", selector="s1\r\nx", private_key=b"")
