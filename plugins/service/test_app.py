"""The follow service over real HTTP, with a real SMTP server, on SQLite and on PostgreSQL.

The app runs in a werkzeug server on 127.0.0.1, serves the pages of the sample site
as the build writes them, and sends its mail through its outbox worker to an
aiosmtpd server in this process. Every test runs once per database.
"""

import contextlib
import datetime
import json
import logging
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import psycopg
from werkzeug.serving import make_server

from service.app import (
    FORM_TIME_MARKER,
    form_time,
    keyed_hash,
    sign_form_time,
    token_hash,
)
from service.config import ServiceConfig
from service.conftest import Service
from service.mailer import SmtpSettings
from service.outbox import next_attempt_at, send_due_mails
from service.smtp_sink import start_sink
from service.store import CONFIRMED, PENDING, UNSUBSCRIBED, Store, open_store, utcnow
from tests.support import ROOT

READER = "lezer@voorbeeld.nl"
MAIL_TIMEOUT_SECONDS = 10
SHORT_BUSY_TIMEOUT = 0.2


def consent_version(service: Service) -> str:
    return json.loads((service.config.pages_path / "formulier.json").read_text())["consent"][
        "version"]


def signup_fields(service: Service, address: str = READER, **changes) -> dict:
    """The fields the follow form of a static page posts (no form time)."""
    fields = {"email": address, "scope": "site", "consent": consent_version(service),
              "website": ""}
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def link_in(mail, kind: str) -> str:
    text = mail.get_body(("plain",)).get_content()
    links = re.findall(rf"http://127\.0\.0\.1:\d+/volg/{kind}/[A-Za-z0-9_-]+/", text)
    assert len(links) == 1, text
    return urllib.parse.urlsplit(links[0]).path


def records(store: Store) -> list:
    return list(store.subscription_records())


def assert_nothing_stored(service: Service) -> None:
    stats = service.store.stats()
    assert stats["subscribers"] == 0 and stats["outbox"] == 0, stats
    assert service.caught() == 0


def subscribe_directly(store: Store, address: str, token: str = "bevestig",
                       expires_in=datetime.timedelta(hours=48), confirm: bool = True):
    """A subscriber made in the store, as an earlier sign-up would have left it."""
    now = utcnow()
    store.request_subscription(address, "site", "v0", "Oude tekst", "ip", "ua",
                               token_hash(token), now + expires_in, now,
                               new_unsubscribe_token=f"afmeld-{token}")
    if confirm:
        assert store.confirm(token_hash(token), now) == "confirmed"
    return store.subscriber_by_email(address)


# --- pages and headers -------------------------------------------------------------------

def test_the_form_page_carries_a_signed_form_time_and_strict_headers(service):
    answer = service.get("/volg/")
    assert answer.status == 200
    assert FORM_TIME_MARKER not in answer.body
    value = re.search(r'name="t" value="([^"]+)"', answer.body).group(1)
    served = form_time(service.config.secret_key, value)
    assert abs((utcnow() - served).total_seconds()) < 5
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    # The theme's one inline <style> (its colours) is allowed by its hash, nothing else.
    assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+'", policy)
    assert answer.headers["Set-Cookie"] is None


def test_head_requests_show_pages_and_change_nothing(service):
    subscriber = subscribe_directly(service.store, READER)
    for path in ("/volg/", "/volg/afmelden/", f"/volg/afmelden/{subscriber.unsubscribe_token}/",
                 "/volg/bevestig/bevestig/"):
        answer = service.request("HEAD", path)
        assert answer.status == 200 and answer.body == "", path
    assert [record.state for record in records(service.store)] == [CONFIRMED]


def test_unknown_paths_and_methods(service):
    missing = service.get("/volg/bestaat-niet/")
    assert missing.status == 404 and missing.body == service.page("niet-gevonden")
    wrong = service.request("PUT", "/volg/", body=b"")
    assert wrong.status == 405
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert wrong.headers["Cache-Control"] == "no-store"


# --- subscribing -----------------------------------------------------------------------

def test_sign_up_confirm_with_the_button_and_keep_the_consent_proof(service, service_log):
    # A form of the service's own page, opened ten seconds ago.
    opened = utcnow() - datetime.timedelta(seconds=10)
    fields = signup_fields(service, scope="category:samenwerken",
                           t=sign_form_time(service.config.secret_key, opened))
    answer = service.post("/volg/", fields, headers={"User-Agent": "Testbrowser/1.0"})
    assert answer.status == 200
    assert answer.body == service.page("bijna-klaar")

    [mail] = service.mails(1)
    assert mail["To"] == READER
    link = link_in(mail, "bevestig")

    # Opening the link (as a mail scanner does) shows the button and confirms nothing.
    for _ in range(2):
        shown = service.get(link)
        assert shown.status == 200 and shown.body == service.page("bevestigen")
    [record] = records(service.store)
    assert record.state == PENDING and record.confirmed_at is None

    confirmed = service.post(link, {})
    assert confirmed.status == 200 and confirmed.body == service.page("bevestigd")
    [record] = records(service.store)
    form = json.loads((service.config.pages_path / "formulier.json").read_text())
    assert (record.email, record.scope, record.state) == (READER, "category:samenwerken",
                                                          CONFIRMED)
    assert record.consent_version == form["consent"]["version"]
    assert record.consent_text == form["consent"]["text"]
    assert record.consented_at <= record.confirmed_at <= utcnow()
    assert record.ip_hash == keyed_hash(service.config.secret_key, "ip", "127.0.0.1")
    assert "127.0.0.1" not in record.ip_hash
    assert record.user_agent_hash == keyed_hash(service.config.secret_key, "user-agent",
                                                "Testbrowser/1.0")

    # Using the link again changes nothing and says so kindly.
    again = service.post(link, {})
    assert again.status == 200 and again.body == service.page("bevestigd")
    assert service.get(link).body == service.page("bevestigd")
    assert all(READER not in message for message in service_log.messages)


def test_new_known_and_unsubscribed_addresses_get_the_same_answer(service):
    subscribe_directly(service.store, "bekend@voorbeeld.nl", token="bekend")
    gone = subscribe_directly(service.store, "weg@voorbeeld.nl", token="weg")
    service.store.unsubscribe(gone.unsubscribe_token, utcnow())

    answers = [service.post("/volg/", signup_fields(service, address))
               for address in ("nieuw@voorbeeld.nl", "bekend@voorbeeld.nl", "weg@voorbeeld.nl")]

    assert {answer.status for answer in answers} == {200}
    assert len({answer.body for answer in answers}) == 1
    assert len({tuple(sorted((name, value) for name, value in answer.headers.items()
                             if name != "Date")) for answer in answers}) == 1
    # Each of them gets a confirmation mail; the known subscriber stays confirmed.
    assert sorted(mail["To"] for mail in service.mails(3)) == [
        "bekend@voorbeeld.nl", "nieuw@voorbeeld.nl", "weg@voorbeeld.nl"]
    states = {record.email: record.state for record in records(service.store)}
    assert states == {"nieuw@voorbeeld.nl": PENDING, "bekend@voorbeeld.nl": CONFIRMED,
                      "weg@voorbeeld.nl": PENDING}


def test_an_unsubscribed_reader_can_sign_up_again(service):
    service.post("/volg/", signup_fields(service))
    link = link_in(service.mails(1)[0], "bevestig")
    service.post(link, {})
    subscriber = service.store.subscriber_by_email(READER)
    service.post(f"/volg/afmelden/{subscriber.unsubscribe_token}/", {})
    # The old confirmation link cannot undo the unsubscription.
    replayed = service.post(link, {})
    assert replayed.status == 400 and replayed.body == service.page("link-verlopen")
    assert [record.state for record in records(service.store)] == [UNSUBSCRIBED]

    service.post("/volg/", signup_fields(service))
    service.post(link_in(service.mails(2)[1], "bevestig"), {})
    assert [record.state for record in records(service.store)] == [CONFIRMED]


def refusal_cases(secret_key: bytes, version: str) -> dict:
    now = utcnow()
    long_ago = sign_form_time(secret_key, now - datetime.timedelta(hours=25))
    return {
        "malformed address": ({"email": "lezer.voorbeeld.nl"}, "ongeldig-adres"),
        "address with CR/LF": ({"email": f"{READER}\r\nBcc: ander@voorbeeld.nl"},
                               "ongeldig-adres"),
        "address with LF": ({"email": f"{READER}\nBcc: ander@voorbeeld.nl"}, "ongeldig-adres"),
        "two addresses": ({"email": f"{READER}, ander@voorbeeld.nl"}, "ongeldig-adres"),
        "header in the address": ({"email": f"Bcc: {READER}"}, "ongeldig-adres"),
        "no address": ({"email": ""}, "ongeldige-invoer"),
        "overlong address": ({"email": "a" * 250 + "@voorbeeld.nl"}, "ongeldige-invoer"),
        "overlong scope": ({"scope": "category:" + "x" * 200}, "ongeldige-invoer"),
        "body over 16 KB": ({"extra": "x" * 17_000}, "ongeldige-invoer"),
        "field given twice": ({"scope": ["site", "category:samenwerken"]}, "ongeldige-invoer"),
        "unknown scope": ({"scope": "series:bestaat-niet"}, "ongeldige-invoer"),
        "no consent": ({"consent": None}, "ongeldige-invoer"),
        "wrong consent version": ({"consent": "000000000000"}, "verouderd-formulier"),
        "honeypot filled in": ({"website": "https://spam.example"}, "geweigerd"),
        "posted right after opening": ({"t": sign_form_time(secret_key, now)}, "te-snel"),
        "forged form time": ({"t": f"{int(now.timestamp()) - 60}.vervalst"}, "te-snel"),
        "form time from yesterday": ({"t": long_ago}, "te-snel"),
    }


def test_each_refusal_has_its_page_and_stores_nothing(service, service_log):
    cases = refusal_cases(service.config.secret_key, consent_version(service))
    for case, (changes, key) in cases.items():
        fields = signup_fields(service, **changes)
        body = urllib.parse.urlencode(fields, doseq=True).encode("ascii")
        answer = service.post("/volg/", body=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (answer.status, answer.body == service.page(key)) == (
            400, True), f"{case}: {answer.status} {answer.body[:200]}"
        assert_nothing_stored(service)
    refusals = [record for record in service_log.records if "refused" in record.getMessage()]
    # Pelican's log filter, installed by any build earlier in the process, drops
    # repeats of one message, so compare the refusals logged, not their number.
    assert {record.args[2] for record in refusals} == {key for _, key in cases.values()}
    assert all(READER not in record.getMessage() for record in service_log.records)


def test_sign_ups_per_ip_address_are_limited(service):
    limit = service.config.signups_per_ip_per_hour
    for number in range(limit):
        assert service.post("/volg/", signup_fields(service, f"lezer{number}@voorbeeld.nl")
                            ).status == 200
    refused = service.post("/volg/", signup_fields(service, "nog-een@voorbeeld.nl"))
    assert refused.status == 429 and refused.body == service.page("te-vaak")
    assert service.store.subscriber_by_email("nog-een@voorbeeld.nl") is None
    assert service.store.stats()["subscribers"] == limit


def test_sign_ups_per_address_are_limited(service):
    limit = service.config.signups_per_address_per_hour
    for _ in range(limit):
        assert service.post("/volg/", signup_fields(service)).status == 200
    # Capitals do not make it another address.
    refused = service.post("/volg/", signup_fields(service, READER.upper()))
    assert refused.status == 429 and refused.body == service.page("te-vaak")
    service.mails(limit)
    assert [record.email for record in records(service.store)] == [READER]


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(make_service):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    direct = make_service()
    direct.post("/volg/", signup_fields(direct, "direct@voorbeeld.nl"), headers=forwarded)
    behind_proxy = make_service(trusted_proxies=1)
    behind_proxy.post("/volg/", signup_fields(behind_proxy, "proxy@voorbeeld.nl"),
                      headers=forwarded)
    key = direct.config.secret_key
    hashes = {record.email: record.ip_hash for record in records(direct.store)}
    assert hashes == {"direct@voorbeeld.nl": keyed_hash(key, "ip", "127.0.0.1"),
                      "proxy@voorbeeld.nl": keyed_hash(key, "ip", "203.0.113.9")}


# --- confirmation links ------------------------------------------------------------------

def test_forged_and_expired_confirmation_links_confirm_nothing(service):
    forged = "/volg/bevestig/" + "x" * 43 + "/"
    for method in ("GET", "POST"):
        answer = service.request(method, forged, fields={})
        assert answer.status == 400 and answer.body == service.page("link-verlopen")
    subscribe_directly(service.store, READER, token="verlopen",
                       expires_in=datetime.timedelta(seconds=-1), confirm=False)
    for method in ("GET", "POST"):
        answer = service.request(method, "/volg/bevestig/verlopen/", fields={})
        assert answer.status == 400 and answer.body == service.page("link-verlopen")
    assert [record.state for record in records(service.store)] == [PENDING]


# --- unsubscribing ---------------------------------------------------------------------

def test_one_click_unsubscribe_answers_200_without_redirect_or_cookie(service):
    subscriber = subscribe_directly(service.store, READER)
    one_click = {"List-Unsubscribe": "One-Click"}
    known = service.post(f"/volg/afmelden/{subscriber.unsubscribe_token}/", one_click)
    unknown = service.post("/volg/afmelden/onbekend-token/", one_click)
    for answer in (known, unknown):
        assert answer.status == 200 and answer.body == service.page("afgemeld")
        assert answer.headers["Location"] is None and answer.headers["Set-Cookie"] is None
    assert [record.state for record in records(service.store)] == [UNSUBSCRIBED]
    # A second click, even years later, answers the same.
    assert service.post(f"/volg/afmelden/{subscriber.unsubscribe_token}/", one_click
                        ).body == known.body


def test_the_unsubscribe_link_shows_a_button_and_changes_nothing(service):
    subscriber = subscribe_directly(service.store, READER)
    for token in (subscriber.unsubscribe_token, "onbekend-token"):
        answer = service.get(f"/volg/afmelden/{token}/")
        assert answer.status == 200 and answer.body == service.page("afmelden-knop")
    assert [record.state for record in records(service.store)] == [CONFIRMED]


def test_the_unsubscribe_form_mails_a_link_to_known_addresses_only(service):
    subscriber = subscribe_directly(service.store, READER)
    page = service.get("/volg/afmelden/")
    assert page.status == 200 and FORM_TIME_MARKER not in page.body
    known = service.post("/volg/afmelden/", {"email": READER, "website": ""})
    unknown = service.post("/volg/afmelden/", {"email": "onbekend@voorbeeld.nl",
                                               "website": ""})
    for answer in (known, unknown):
        assert answer.status == 200 and answer.body == service.page("afmelden-verstuurd")
    [mail] = service.mails(1)
    assert mail["To"] == READER
    link = link_in(mail, "afmelden")
    assert link == f"/volg/afmelden/{subscriber.unsubscribe_token}/"
    assert service.post(link, {}).status == 200
    assert [record.state for record in records(service.store)] == [UNSUBSCRIBED]
    # The same refusals as a sign-up.
    assert service.post("/volg/afmelden/", {"email": READER, "website": "x"}
                        ).body == service.page("geweigerd")


# --- JSON, storage trouble, build output ---------------------------------------------------

def test_json_answers_for_clients_that_ask_for_them(service):
    accept = {"Accept": "application/json"}
    accepted = service.post("/volg/", signup_fields(service), headers=accept)
    assert accepted.status == 200 and accepted.headers["Content-Type"] == "application/json"
    assert accepted.json() == {"status": "bijna-klaar", "ok": True}
    refused = service.post("/volg/", signup_fields(service, "geen-adres"), headers=accept)
    assert refused.status == 400
    assert refused.json() == {"status": "ongeldig-adres", "ok": False}
    # A browser's usual Accept header gets the page.
    browser = service.get("/volg/", headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert browser.headers["Content-Type"].startswith("text/html")


def hold_write_lock(database_url: str):
    """Another connection that holds the lock a sign-up needs, until closed."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url[len("sqlite:///"):], isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        return holder
    holder = psycopg.connect(database_url)
    holder.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
    return holder


def test_a_locked_database_gives_the_storing_page(make_service, database_url, service_log):
    service = make_service(busy_timeout=SHORT_BUSY_TIMEOUT)
    service.get("/volg/")  # formulier.json read, its consent text stored
    holder = hold_write_lock(database_url)
    try:
        answer = service.post("/volg/", signup_fields(service))
    finally:
        holder.close()
    assert answer.status == 503 and answer.body == service.page("storing")
    assert any(record.levelno == logging.ERROR for record in service_log.records)
    assert service.store.stats()["subscribers"] == 0
    # Once the lock is gone, the service works again.
    assert service.post("/volg/", signup_fields(service)).status == 200


def test_pages_missing_tell_the_operator_to_build(make_service, tmp_path, service_log):
    service = make_service(output_path=tmp_path / "leeg")
    answer = service.get("/volg/")
    assert answer.status == 503 and answer.headers["Content-Type"].startswith("text/plain")
    assert "niet beschikbaar" in answer.body
    assert str(tmp_path) not in answer.body, "a reader must not see the server's paths"
    assert any("formulier.json" in record.getMessage() or "index.html" in record.getMessage()
               for record in service_log.records if record.levelno == logging.ERROR)


def copy_of_build(sample_site, target: Path) -> Path:
    shutil.copytree(sample_site.output / "volg", target / "volg")
    shutil.copytree(sample_site.output / "theme", target / "theme")
    return target


def test_a_rebuilt_form_is_read_again_and_old_versions_stay_valid(make_service, sample_site,
                                                                 tmp_path):
    output = copy_of_build(sample_site, tmp_path / "output")
    service = make_service(output_path=output)
    old_version = consent_version(service)
    assert service.get("/volg/").status == 200
    form_path = output / "volg" / "formulier.json"
    form = json.loads(form_path.read_text())
    form["consent"] = {"version": "nieuwe-versie", "text": "Een nieuwe toestemmingstekst."}
    form_path.write_text(json.dumps(form))

    assert service.post("/volg/", signup_fields(service, consent="nieuwe-versie")
                        ).status == 200
    # A page opened before the rebuild still has the old version, which the service knows.
    assert service.post("/volg/", signup_fields(service, "ander@voorbeeld.nl",
                                                consent=old_version)).status == 200
    texts = {record.email: record.consent_text for record in records(service.store)}
    assert texts[READER] == "Een nieuwe toestemmingstekst."
    assert texts["ander@voorbeeld.nl"] != "Een nieuwe toestemmingstekst."


def test_a_build_without_mail_texts_is_an_operator_error(make_service, sample_site, tmp_path,
                                                        service_log):
    output = copy_of_build(sample_site, tmp_path / "output")
    form_path = output / "volg" / "formulier.json"
    form = json.loads(form_path.read_text())
    form.pop("mails", None)
    form_path.write_text(json.dumps(form))
    service = make_service(output_path=output)
    answer = service.post("/volg/", signup_fields(service))
    assert answer.status == 503 and answer.body == service.page("storing")
    assert any("mails.confirm" in record.getMessage() for record in service_log.records
               if record.levelno == logging.ERROR)
    assert_nothing_stored(service)


# --- the outbox --------------------------------------------------------------------------

def queued(store: Store, now: datetime.datetime) -> int:
    return store.queue_mail("confirm", READER, b"Subject: test\r\n\r\nHallo\r\n", now)


def test_only_one_process_claims_a_mail(database_url):
    store, other = open_store(database_url), Store(database_url)
    try:
        now = utcnow()
        mail_id = queued(store, now)
        lease = now + datetime.timedelta(minutes=10)
        assert store.claim_mail(mail_id, now, lease)
        assert not other.claim_mail(mail_id, now, lease)
        assert store.due_mails(now) == []
        assert [mail.id for mail in store.due_mails(lease)] == [mail_id]
    finally:
        store.close()
        other.close()


@contextlib.contextmanager
def port_nobody_listens_on():
    """A port on 127.0.0.1 that refuses connections: bound, but not listening."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def test_the_outbox_retries_a_server_that_is_down_then_sends(database_url, tmp_path):
    store = open_store(database_url)
    try:
        with port_nobody_listens_on() as port:
            config = ServiceConfig.for_tests(
                tmp_path, database_url=database_url,
                smtp=SmtpSettings(host="127.0.0.1", port=port, timeout=2, retries=0))
            now = utcnow()
            queued(store, now)
            assert send_due_mails(config, store, now) == 0
        [mail] = store.due_mails(now + datetime.timedelta(minutes=1))
        assert mail.attempts == 1 and store.due_mails(now) == []

        sink = start_sink("127.0.0.1", 0, maildir=tmp_path / "mail")
        try:
            config = ServiceConfig.for_tests(
                tmp_path, database_url=database_url,
                smtp=SmtpSettings(host="127.0.0.1", port=sink.port, timeout=2, retries=0))
            assert send_due_mails(config, store, now + datetime.timedelta(minutes=1)) == 1
        finally:
            sink.stop()
        assert store.stats()["outbox"] == 0
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    finally:
        store.close()


def test_the_outbox_drops_a_refused_mail(database_url, tmp_path):
    store = open_store(database_url)
    sink = start_sink("127.0.0.1", 0, maildir=tmp_path / "mail", refuse=[READER])
    try:
        config = ServiceConfig.for_tests(
            tmp_path, database_url=database_url,
            smtp=SmtpSettings(host="127.0.0.1", port=sink.port, timeout=2, retries=0))
        queued(store, utcnow())
        assert send_due_mails(config, store) == 0
        assert store.stats()["outbox"] == 0
    finally:
        sink.stop()
        store.close()


def test_the_outbox_does_not_send_twice_what_may_have_arrived(database_url, tmp_path):
    store = open_store(database_url)
    sink = start_sink("127.0.0.1", 0, maildir=tmp_path / "mail", drop_after=1,
                      keep_dropped=True)
    try:
        config = ServiceConfig.for_tests(
            tmp_path, database_url=database_url,
            smtp=SmtpSettings(host="127.0.0.1", port=sink.port, timeout=2, retries=0))
        queued(store, utcnow())
        send_due_mails(config, store)
        assert store.stats()["outbox"] == 0
        assert send_due_mails(config, store) == 0
        assert sink.handler.accepted == 1
    finally:
        sink.stop()
        store.close()


def test_the_outbox_gives_up_after_a_day():
    now = utcnow()
    waits = []
    attempts = 0
    while (retry := next_attempt_at(attempts, now)) is not None:
        waits.append(retry - now)
        attempts += 1
    assert waits[0] == datetime.timedelta(minutes=1)
    assert max(waits) == datetime.timedelta(hours=1)
    assert datetime.timedelta(hours=20) < sum(waits, datetime.timedelta()) \
        <= datetime.timedelta(days=1)



# --- the production entry point ------------------------------------------------------------

def settings_file(folder: Path, output: Path, smtp_port: int) -> Path:
    path = folder / "productieconf.py"
    path.write_text(
        'SITENAME = "Testsite"\n'
        'SITEURL = "http://127.0.0.1:8000"\n'
        f"OUTPUT_PATH = {str(output)!r}\n"
        'SITE_CONTACT = {"email": "info@testsite.example"}\n'
        f"SERVICE_DATA_PATH = {str(folder / 'data')!r}\n"
        f"SERVICE_SMTP_PORT = {smtp_port}\n")
    return path


def test_the_wsgi_application_serves_and_sends(database_url, sample_site, tmp_path,
                                               monkeypatch):
    from service.wsgi import make_application

    sink = start_sink("127.0.0.1", 0, maildir=tmp_path / "mail")
    monkeypatch.setenv("ADVIESBLOG_DATABASE_URL", database_url)
    application = make_application(settings_file(tmp_path, sample_site.output, sink.port))
    server = make_server("127.0.0.1", 0, application, threaded=True)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                               daemon=True)
    serving.start()
    service = Service(application.config, application.store, sink, tmp_path / "mail",
                      *server.server_address[:2])
    try:
        assert service.get("/volg/").status == 200
        assert service.post("/volg/", signup_fields(service)).status == 200
        [mail] = service.mails(1)
        assert link_in(mail, "bevestig").startswith("/volg/bevestig/")
    finally:
        server.shutdown()
        serving.join()
        server.server_close()
        application.close()
        sink.stop()


def test_wsgi_servers_find_the_application_by_name(sample_site, tmp_path):
    settings = settings_file(tmp_path, sample_site.output, 2525)
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "plugins"),
                   "ADVIESBLOG_SETTINGS": str(settings)}
    finds = subprocess.run(
        [sys.executable, "-c", "import service.wsgi; print(type(service.wsgi.application)"
                               ".__name__)"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, check=False)
    assert finds.returncode == 0, finds.stderr
    assert finds.stdout.strip() == "ServiceApplication"
    assert (tmp_path / "data" / "volg.sqlite3").is_file()


def test_an_unsubscribe_request_writes_the_same_for_known_and_unknown_addresses(service):
    service.post("/volg/", signup_fields(service))
    service.post(link_in(service.mails(1)[0], "bevestig"), {})
    for address in (READER, "onbekend@voorbeeld.nl"):
        answer = service.post("/volg/afmelden/", {"email": address, "website": ""})
        assert answer.status == 200
    # One outbox row each, so both answers take as long; only the subscriber gets mail.
    mails = service.mails(2)
    assert [mail["To"] for mail in mails] == [READER, READER]
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while service.store.all("SELECT kind FROM outbox") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.store.all("SELECT kind FROM outbox") == []
    assert service.caught() == 2
