"""The SMTP sink as a process of its own, and the mail catcher that shows what it caught.

The sink runs as ``python -m service.smtp_sink``, as the newsletter bench and the
crash test start it; the mail catcher is served by a real HTTP server, as
``make serve`` mounts it.
"""

import os
import smtplib
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service.mailcatcher import make_mailcatcher
from service.mailer import EditionMessage, SmtpSession, SmtpSettings, transactional_message
from service.smtp_sink import message_id_of, parse_arguments, start_sink

PLUGINS = Path(__file__).resolve().parents[1]
SENDER = "bounces@ruimte.example"


def mail(recipient: str, subject: str, text: str, number: int = 1) -> bytes:
    return transactional_message(mail_from="Ruimte & Richting <nieuws@ruimte.example>",
                                 recipient=recipient, subject=subject, text=text,
                                 message_id_domain="ruimte.example",
                                 message_id=f"<bericht-{number}@ruimte.example>")


@pytest.fixture
def sink_process():
    """Start ``python -m service.smtp_sink`` with the given arguments; stopped after the test."""
    started = []

    def start(*arguments: str) -> tuple[subprocess.Popen, int]:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.smtp_sink", "--port", "0", *arguments],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=str(PLUGINS)))
        started.append(process)
        line = process.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), (line, process.stderr.read())
        return process, int(line.rsplit(":", 1)[1])

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
        process.stderr.close()


def test_the_sink_process_keeps_every_message_in_order(sink_process, tmp_path):
    maildir, log = tmp_path / "mail", tmp_path / "sink.log"
    process, port = sink_process("--maildir", str(maildir), "--log", str(log))
    sent = [mail(f"lezer{number}@voorbeeld.nl", f"Bericht {number}",
                 f".punt vooraan\nBericht {number}\n", number) for number in range(3)]
    with SmtpSession(SmtpSettings(port=port, timeout=5)) as session:
        for number, message in enumerate(sent):
            session.send(SENDER, f"lezer{number}@voorbeeld.nl", message)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:  # two recipients, one message
        client.sendmail(SENDER, ["a@voorbeeld.nl", "b@voorbeeld.nl"], mail("a@voorbeeld.nl",
                        "Twee", "Voor twee.\n", 3))

    files = sorted(maildir.glob("*.eml"))
    assert [path.read_bytes() for path in files[:3]] == sent
    assert log.read_text().splitlines() == [
        "lezer0@voorbeeld.nl\t<bericht-0@ruimte.example>",
        "lezer1@voorbeeld.nl\t<bericht-1@ruimte.example>",
        "lezer2@voorbeeld.nl\t<bericht-2@ruimte.example>",
        "a@voorbeeld.nl\t<bericht-3@ruimte.example>",
        "b@voorbeeld.nl\t<bericht-3@ruimte.example>",
    ]
    assert not [path for path in maildir.iterdir() if path.suffix != ".eml"]  # no temp files
    process.terminate()
    assert process.wait(timeout=5) == 0


def test_the_sink_process_misbehaves_as_asked(sink_process, tmp_path):
    log = tmp_path / "sink.log"
    _, port = sink_process("--log", str(log), "--fail-first", "1", "--refuse",
                           "weg@voorbeeld.nl", "--drop-after", "2")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.ehlo()
        client.mail(SENDER)
        assert client.rcpt("lezer@voorbeeld.nl")[0] == 451
        assert client.rcpt("weg@voorbeeld.nl")[0] == 550
        assert client.rcpt("lezer@voorbeeld.nl")[0] == 250
        assert client.data(mail("lezer@voorbeeld.nl", "Een", "Een.\n", 1))[0] == 250
        client.mail(SENDER)
        client.rcpt("lezer@voorbeeld.nl")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.data(mail("lezer@voorbeeld.nl", "Twee", "Twee.\n", 2))
    assert log.read_text() == "lezer@voorbeeld.nl\t<bericht-1@ruimte.example>\n"


def test_the_sink_refuses_a_line_over_998_octets(tmp_path):
    controller = start_sink(maildir=tmp_path / "mail")
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=5) as client:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail(SENDER, ["lezer@voorbeeld.nl"],
                                b"Subject: lang\r\n\r\n" + b"x" * 999 + b"\r\n")
            assert refused.value.smtp_code == 500
            client.sendmail(SENDER, ["lezer@voorbeeld.nl"],
                            b"Subject: net\r\n\r\n" + b"x" * 998 + b"\r\n")
    finally:
        controller.stop()
    assert controller.handler.accepted == 1


def test_the_sink_needs_somewhere_to_keep_mail():
    with pytest.raises(SystemExit):
        parse_arguments(["--port", "0"])
    arguments = parse_arguments(["--log", "x.log", "--fail-first", "2", "--fail-stage", "data",
                                 "--refuse", "a@b.nl", "--refuse", "c@d.nl", "--drop-after", "5",
                                 "--keep-dropped"])
    assert (arguments.fail_first, arguments.fail_stage, arguments.refuse, arguments.drop_after,
            arguments.keep_dropped) == (2, "data", ["a@b.nl", "c@d.nl"], 5, True)


def test_message_id_of_a_raw_message():
    assert message_id_of(b"Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <c@d>") == "<a@b>"
    assert message_id_of(b"Subject: x\r\n\r\nMessage-ID: <c@d>\r\n") == "-"


# -- the mail catcher -----------------------------------------------------------------


@pytest.fixture
def catcher(tmp_path):
    """The mail catcher on a real HTTP server at /_mail/, over the folder ``tmp_path/mail``."""
    maildir = tmp_path / "mail"
    maildir.mkdir()
    server = make_server("127.0.0.1", 0, make_mailcatcher(maildir))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield maildir, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def fetch(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


HOSTILE_SUBJECT = '<script>alert("onderwerp")</script>'


def hostile_edition() -> bytes:
    placeholder = "https://ruimte.example/volg/afmelden/"
    return EditionMessage(
        mail_from="Ruimte & Richting <nieuws@ruimte.example>", subject=HOSTILE_SUBJECT,
        text=f'Hallo <b>lezer</b> & "vriend".\nAfmelden: {placeholder}.\n'
             'Klik "https://evil.example/x"><script>alert(1)</script>\n',
        html=f'<html><head><title>t</title></head><body><script>alert("html")</script>'
             f'<a href="{placeholder}">Afmelden</a></body></html>',
        placeholder=placeholder, list_id="volgen.ruimte.example",
        unsubscribe_mailto="afmelden@ruimte.example", message_id_domain="ruimte.example",
    ).render("lezer@voorbeeld.nl", "https://ruimte.example/volg/afmelden/abc/")


def test_the_catcher_lists_caught_mail_newest_first(catcher):
    maildir, base = catcher
    status, page, _ = fetch(f"{base}/_mail/")
    assert status == 200 and "Nog geen mail gevangen" in page
    for number, name in enumerate(["20250101-000000-000001-000001-1", "20250101-000000-000002"
                                   "-000002-1"]):
        path = maildir / f"{name}.eml"
        path.write_bytes(mail("lezer@voorbeeld.nl", f"Bericht {number}", "Hallo.\n", number))
        os.utime(path, ns=(number * 10**9, number * 10**9))
    status, page, headers = fetch(f"{base}/_mail/")
    assert status == 200
    assert page.index("Bericht 1") < page.index("Bericht 0")
    assert 'href="/_mail/20250101-000000-000001-000001-1/"' in page
    assert '<html lang="nl">' in page and "lezer@voorbeeld.nl" in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_the_catcher_shows_a_hostile_message_as_text(catcher):
    maildir, base = catcher
    (maildir / "20250101-000000-000001-000001-1.eml").write_bytes(hostile_edition())
    status, page, _ = fetch(f"{base}/_mail/20250101-000000-000001-000001-1/")
    assert status == 200
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;onderwerp&quot;)&lt;/script&gt;" in page
    assert "Hallo &lt;b&gt;lezer&lt;/b&gt; &amp; &quot;vriend&quot;." in page
    # The link is a link, without the sentence's full stop; the hostile one ends at its quote.
    assert ('<a href="https://ruimte.example/volg/afmelden/abc/">'
            "https://ruimte.example/volg/afmelden/abc/</a>.") in page
    assert '<a href="https://evil.example/x">https://evil.example/x</a>&quot;&gt;' in page
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert "allow-scripts" not in page and "allow-same-origin" not in page
    assert "srcdoc=\"&lt;html&gt;&lt;head&gt;&lt;base target=&quot;_blank&quot;&gt;" in page
    assert "List-Unsubscribe-Post" in page and "List-Unsubscribe=One-Click" in page
    status, source, headers = fetch(f"{base}/_mail/20250101-000000-000001-000001-1.eml")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in source


@pytest.mark.parametrize("path", [
    "../secret/", "..%2Fsecret/", "%2E%2E%2Fsecret/", ".hidden/", "..%2F..%2Fetc%2Fpasswd.eml",
    "missing/", "20250101-000000-000001-000001-1", "a%00b/",
])
def test_the_catcher_finds_nothing_outside_its_folder(catcher, path):
    maildir, base = catcher
    (maildir / "20250101-000000-000001-000001-1.eml").write_bytes(hostile_edition())
    (maildir / ".hidden.eml").write_bytes(b"Subject: verborgen\r\n\r\nx\r\n")
    (maildir.parent / "secret.eml").write_bytes(b"Subject: geheim\r\n\r\ngeheim\r\n")
    status, page, _ = fetch(f"{base}/_mail/{path}")
    assert status == 404
    assert "geheim" not in page and "verborgen" not in page


def test_the_catcher_reads_what_the_sink_caught(catcher, tmp_path):
    maildir, base = catcher
    controller = start_sink(maildir=maildir)
    try:
        with SmtpSession(SmtpSettings(port=controller.port, timeout=5)) as session:
            session.send(SENDER, "lezer@voorbeeld.nl", mail(
                "lezer@voorbeeld.nl", "Bevestig je aanmelding",
                "Bevestig: https://ruimte.example/volg/bevestig/tok3n/\n"))
    finally:
        controller.stop()
    [caught] = maildir.glob("*.eml")
    status, page, _ = fetch(f"{base}/_mail/")
    assert f'href="/_mail/{caught.stem}/">Bevestig je aanmelding</a>' in page
    status, page, _ = fetch(f"{base}/_mail/{caught.stem}/")
    assert '<a href="https://ruimte.example/volg/bevestig/tok3n/">' in page
    assert "<iframe" not in page  # a text-only mail has no HTML part to show


@pytest.mark.validator
def test_the_catcher_pages_are_valid_html(catcher, tmp_path):
    from tests.tools import vnu_errors

    maildir, base = catcher
    (maildir / "20250101-000000-000001-000001-1.eml").write_bytes(hostile_edition())
    pages = tmp_path / "pages"
    pages.mkdir()
    for name, path in [("lijst", "/_mail/"), ("bericht", "/_mail/20250101-000000-000001-000001-1/"),
                       ("niet-gevonden", "/_mail/niets/")]:
        (pages / f"{name}.html").write_text(fetch(base + path)[1], encoding="utf-8")
    assert vnu_errors(pages) == []
