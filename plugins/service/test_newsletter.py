"""The newsletter sender: plan, scopes, cadence, digests, journal, lock and SMTP trouble.

A real publish build of the small site in ``test_data/newsletter`` (four articles in
two categories and a series, one author with an address and one without), a real
aiosmtpd server on 127.0.0.1, and the store on SQLite and PostgreSQL. Time is the
``now`` each run is given, so a test walks through the spring of 2024 in a second.
"""

import asyncio
import contextlib
import datetime
import email
import email.policy
import email.utils
import json
import secrets
import shutil
import socket
import threading
import types
from pathlib import Path

import pytest

from service.config import ServiceConfig
from service.mailer import SmtpSettings
from service.newsletter import (
    NewsletterError,
    SmtpUnavailable,
    digest_id,
    load_manifest,
    plan,
    run,
    send,
)
from service.smtp_sink import (
    SERVER_NAME,
    SMTP_OPTIONS,
    SinkController,
    SinkHandler,
    start_sink,
)
from service.store import FAILED, SENDING, SENT, UNCERTAIN, SenderBusy, open_store
from tests.support import PUBLISH_SITEURL, ROOT, publish_site

CONTENT = Path(__file__).parent / "test_data" / "newsletter" / "content"
PLACEHOLDER = f"{PUBLISH_SITEURL}/volg/afmelden/"
ALL_STATES = (SENDING, SENT, FAILED, UNCERTAIN)
# The four articles, dated in Europe/Amsterdam: Samen plannen (5 March; Samenwerken,
# series Beter plannen; Anna, who has an address), Kort overleg (9 April; Vergaderen;
# Bram, who has none), Plannen met klanten (16 April; as Samen plannen) and Notuleren
# zonder notulen (7 May; as Kort overleg).
FEBRUARY, APRIL = "2024-02-01 12:00", "2024-04-01 12:00"


def at(moment: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(moment).replace(tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    built = publish_site(tmp_path_factory.mktemp("nieuwsbrief") / "output", PATH=str(CONTENT))
    assert built.messages() == []
    return built


def manifest_file(site) -> Path:
    return site.output / "nieuwsbrief" / "editions.json"


def service_config(folder: Path, site, **overrides) -> ServiceConfig:
    values = {"site_url": PUBLISH_SITEURL, "output_path": site.output,
              "smtp": SmtpSettings(port=25, retries=2, backoff=0.01, timeout=10)}
    return ServiceConfig.for_tests(folder, **dict(values, **overrides))


@pytest.fixture
def sink(tmp_path):
    controller = start_sink(maildir=tmp_path / "mail")
    yield controller
    controller.stop()


@pytest.fixture
def config(tmp_path, site, sink, database_url):
    return service_config(tmp_path, site, database_url=database_url,
                          smtp=SmtpSettings(port=sink.port, retries=2, backoff=0.01,
                                            timeout=10))


@pytest.fixture
def store(config):
    opened = open_store(config.database_url)
    yield opened
    opened.close()


@pytest.fixture
def manifest(site, config):
    return load_manifest(manifest_file(site), config)


@pytest.fixture
def ids(manifest):
    """Article title -> edition id."""
    return {edition["title"]: edition["id"] for edition in manifest["editions"]}


def subscribe(store, address, *scopes, confirmed):
    """Sign up and confirm as the web app does, at the time ``confirmed``."""
    moment = at(confirmed)
    for scope in scopes:
        token_hash = secrets.token_hex(16)
        store.request_subscription(address, scope, "c0ffee", "Toestemmingstekst", "ip-hash",
                                   "ua-hash", token_hash, moment + datetime.timedelta(hours=48),
                                   moment, new_unsubscribe_token=secrets.token_urlsafe(24))
        assert store.confirm(token_hash, moment) == "confirmed"
    return store.subscriber_by_email(address)


def received(sink) -> list[email.message.EmailMessage]:
    """Every message the sink accepted, in order of arrival."""
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(sink.handler.maildir.glob("*.eml"))]


def recipients(sink) -> list[str]:
    return sorted(str(message["To"]) for message in received(sink))


def send_at(store, config, manifest, site, moment, **options):
    return send(store, config, manifest, site.settings, at(moment), **options)


def text_and_html(message) -> tuple[str, str]:
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n")
                 for kind in ("plain", "html"))


def write_settings(folder: Path, site, database_url: str, smtp_port: int) -> Path:
    """A settings file as an operator has one: the publish settings plus the service's."""
    path = folder / "instellingen.py"
    path.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from publishconf import *  # noqa: F403\n"
        f"PATH = {str(CONTENT)!r}\n"
        f"OUTPUT_PATH = {str(site.output)!r}\n"
        f"SITEURL = FEED_DOMAIN = {PUBLISH_SITEURL!r}\n"
        f"SERVICE_DATABASE_URL = {database_url!r}\n"
        f"SERVICE_DATA_PATH = {str(folder / 'data')!r}\n"
        f"SERVICE_SMTP_PORT = {smtp_port}\n", encoding="utf-8")
    return path


# --- what goes to whom -----------------------------------------------------------------


def test_dry_run_counts_per_edition_and_sends_nothing(store, manifest, sink, ids):
    subscribe(store, "iedereen@lezers.example", "site", confirmed=APRIL)
    subscribe(store, "vergaderaar@lezers.example", "category:vergaderen", confirmed=APRIL)
    subscribe(store, "planner@lezers.example", "series:beter-plannen", confirmed=APRIL)

    planned = plan(store, manifest, at("2024-04-10 12:00"))

    assert {edition_id: edition.recipients for edition_id, edition in planned.editions.items()} \
        == {ids["Kort overleg"]: 2}
    assert planned.subscribers == 3
    text = "\n".join(planned.lines())
    assert "Would send 2 messages" in text and "Kort overleg" in text
    assert "Dry run: nothing was sent" in text
    assert received(sink) == []
    assert store.deliveries(ALL_STATES) == []


def test_invoke_newsletter_prints_the_plan_and_sends_nothing(tmp_path, site, sink, database_url,
                                                             capsys):
    with contextlib.closing(open_store(database_url)) as store:
        subscribe(store, "iedereen@lezers.example", "site", confirmed=FEBRUARY)
    settings = write_settings(tmp_path, site, database_url, sink.port)

    assert run(str(settings)) == 0

    output = capsys.readouterr().out
    assert "Would send 1 messages" in output
    assert "digest of 4 articles" in output
    assert received(sink) == []
    with contextlib.closing(open_store(database_url)) as store:
        assert store.deliveries(ALL_STATES) == []


def test_each_article_reaches_its_scopes_with_every_header(store, config, manifest, site, sink,
                                                            ids):
    everything = subscribe(store, "iedereen@lezers.example", "site", confirmed=FEBRUARY)
    subscribe(store, "reeks@lezers.example", "series:beter-plannen", confirmed=FEBRUARY)
    subscribe(store, "samenwerker@lezers.example", "category:samenwerken", confirmed=FEBRUARY)
    subscribe(store, "vergaderaar@lezers.example", "category:vergaderen", confirmed=FEBRUARY)
    tokens = {address: store.subscriber_by_email(address).unsubscribe_token
              for address in ("iedereen@lezers.example", "reeks@lezers.example",
                              "samenwerker@lezers.example", "vergaderaar@lezers.example")}

    report = send_at(store, config, manifest, site, "2024-03-06 12:00")

    assert report.sent == 3
    assert recipients(sink) == ["iedereen@lezers.example", "reeks@lezers.example",
                                "samenwerker@lezers.example"]
    for message in received(sink):
        address = str(message["To"])
        own_link = f"{PLACEHOLDER}{tokens[address]}/"
        assert message["Subject"] == "Samen plannen"
        assert message["From"] == config.mail_from
        assert email.utils.parsedate_to_datetime(message["Date"]) == at("2024-03-06 12:00")
        assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
        assert message["List-Id"] == f"Testsite <{config.list_id}>"
        assert [part.strip() for part in message["List-Unsubscribe"].split(",")] == [
            f"<{own_link}>", f"<mailto:{config.unsubscribe_mailto}?subject=afmelden>"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Reply-To"] == "Anna Jansen <anna@voorbeeld.example>"
        assert message.get_content_type() == "multipart/alternative"
        for part in text_and_html(message):
            assert own_link in part
            # The generic link is gone: every occurrence of it is the subscriber's own.
            assert part.count(PLACEHOLDER) == part.count(own_link)
            for other, token in tokens.items():
                assert other == address or token not in part
        assert "Een planning die het team zelf maakt" in text_and_html(message)[0]
    journal = {(delivery.email, delivery.edition_id): delivery
               for delivery in store.deliveries([SENT])}
    assert {message["Message-ID"] for message in received(sink)} == {
        delivery.message_id for delivery in journal.values()}

    report = send_at(store, config, manifest, site, "2024-04-10 12:00")

    assert report.sent == 2
    new = received(sink)[3:]
    assert sorted(str(message["To"]) for message in new) == ["iedereen@lezers.example",
                                                              "vergaderaar@lezers.example"]
    assert {message["Subject"] for message in new} == {"Kort overleg"}
    # Bram's profile gives no address: his article has no Reply-To.
    assert all(message["Reply-To"] is None for message in new)
    assert store.send_history(everything.id).delivered_articles == {
        ids["Samen plannen"], ids["Kort overleg"]}


def test_a_second_run_sends_nothing(store, config, manifest, site, sink):
    subscribe(store, "iedereen@lezers.example", "site", confirmed=APRIL)
    subscribe(store, "vergaderaar@lezers.example", "category:vergaderen", confirmed=APRIL)
    assert send_at(store, config, manifest, site, "2024-04-10 12:00").sent == 2

    again = send_at(store, config, manifest, site, "2024-04-10 12:05")
    much_later = send_at(store, config, manifest, site, "2024-04-15 12:00")

    assert again.sent == much_later.sent == 0
    assert again.plan.editions == {}
    assert len(received(sink)) == 2


def test_several_scopes_never_give_an_article_twice(store, config, manifest, site, sink, ids):
    reader = subscribe(store, "alles@lezers.example", "site", "series:beter-plannen",
                       "category:samenwerken", confirmed=FEBRUARY)

    send_at(store, config, manifest, site, "2024-03-06 12:00")
    send_at(store, config, manifest, site, "2024-05-08 12:00")

    messages = received(sink)
    assert [message["Subject"] for message in messages][0] == "Samen plannen"
    assert len(messages) == 2, "one article edition, then one digest of the three after it"
    digest_text = text_and_html(messages[1])[0]
    for title in ("Kort overleg", "Plannen met klanten", "Notuleren zonder notulen"):
        assert digest_text.count(f"{title}\n") == 1
    assert "Samen plannen\n" not in digest_text
    assert store.send_history(reader.id).delivered_articles == set(ids.values())


def test_a_subscriber_confirmed_after_an_article_does_not_get_it(store, config, manifest, site,
                                                                 sink, ids):
    subscribe(store, "nieuw@lezers.example", "site", confirmed="2024-04-12 08:00")

    early = send_at(store, config, manifest, site, "2024-04-12 09:00")
    later = send_at(store, config, manifest, site, "2024-04-17 09:00")

    assert early.sent == 0 and early.plan.editions == {}
    assert later.sent == 1
    assert [message["Subject"] for message in received(sink)] == ["Plannen met klanten"]


# --- cadence ---------------------------------------------------------------------------


def test_weekly_three_due_articles_make_one_digest_and_the_next_day_nothing(
        store, config, manifest, site, sink, ids):
    assert manifest["frequency"] == {"key": "weekly", "days": 7,
                                     "text": "hooguit één keer per week"}
    reader = subscribe(store, "lezer@lezers.example", "site", confirmed=APRIL)
    three = (ids["Notuleren zonder notulen"], ids["Plannen met klanten"], ids["Kort overleg"])

    report = send_at(store, config, manifest, site, "2024-05-08 12:00")
    next_day = send_at(store, config, manifest, site, "2024-05-09 12:00")

    assert report.sent == 1 and next_day.sent == 0
    [digest] = received(sink)
    assert digest["Subject"] != "Kort overleg"
    text, html = text_and_html(digest)
    for title in ("Kort overleg", "Plannen met klanten", "Notuleren zonder notulen"):
        assert title in text and title in html
    assert "Samen plannen" not in text
    assert digest["Reply-To"] is None, "the articles have different authors"
    [delivery] = store.deliveries([SENT])
    assert delivery.edition_id == digest_id(three) == digest_id(reversed(three))
    assert store.send_history(reader.id).delivered_articles == set(three)


def test_an_article_within_the_week_waits_until_the_week_is_over(store, config, manifest, site,
                                                                  sink):
    subscribe(store, "lezer@lezers.example", "site", confirmed=APRIL)
    assert send_at(store, config, manifest, site, "2024-04-10 12:00").sent == 1

    waiting = send_at(store, config, manifest, site, "2024-04-16 12:00")

    assert waiting.sent == 0
    assert waiting.plan.deferred == 1
    assert waiting.plan.deferred_from == at("2024-04-17 12:00")
    assert "Deferred by the frequency (weekly" in "\n".join(waiting.lines())
    assert send_at(store, config, manifest, site, "2024-04-17 12:00").sent == 1
    assert [message["Subject"] for message in received(sink)] == ["Kort overleg",
                                                                  "Plannen met klanten"]


def test_every_article_frequency_sends_each_article_on_its_own(store, config, manifest, site,
                                                               sink):
    subscribe(store, "lezer@lezers.example", "site", confirmed=APRIL)
    every_article = dict(manifest, frequency={"key": "every-article", "days": 0,
                                              "text": "bij elk nieuw artikel"})

    report = send(store, config, every_article, site.settings, at("2024-05-08 12:00"))

    assert report.sent == 3
    assert [message["Subject"] for message in received(sink)] == [
        "Kort overleg", "Plannen met klanten", "Notuleren zonder notulen"]


# --- editions.json it refuses --------------------------------------------------------------


HUGE_PART = "nieuwsbrief/veel-te-groot.html"


def _broken(manifest: dict, case: str) -> str | dict:
    manifest = json.loads(json.dumps(manifest))
    if case == "corrupt":
        return '{"format": 1, "editions": ['
    if case == "other site":
        manifest["site"]["url"] = "https://www.een-ander-bureau.example"
    elif case == "newer format":
        manifest["format"] = 2
    elif case == "no frequency":
        del manifest["frequency"]
    elif case == "no date":
        del manifest["editions"][0]["date"]
    elif case == "missing part":
        manifest["editions"][0]["html"] = "nieuwsbrief/weg/index.html"
    elif case == "part outside the output":
        manifest["editions"][0]["text"] = "../../../etc/passwd"
    elif case == "huge part":
        manifest["editions"][0]["html"] = HUGE_PART
    return manifest


@pytest.mark.parametrize("case, expected", [
    ("missing", "not found; publish the site first"),
    ("corrupt", "not valid JSON"),
    ("other site", "is from another site (https://www.een-ander-bureau.example)"),
    ("newer format", "format is 2; this sender reads format 1"),
    ("no frequency", "'frequency' is missing"),
    ("no date", "has no date"),
    ("missing part", "its html part"),
    ("part outside the output", "outside"),
    ("huge part", "the sender refuses parts over 1,024 KB"),
])
def test_a_missing_corrupt_or_foreign_editions_json_is_refused(tmp_path, site, case, expected):
    config = service_config(tmp_path, site)
    path = tmp_path / "editions.json"
    if case != "missing":
        broken = _broken(json.loads(manifest_file(site).read_text(encoding="utf-8")), case)
        path.write_text(broken if isinstance(broken, str) else json.dumps(broken),
                        encoding="utf-8")

    huge = config.output_path / HUGE_PART
    if case == "huge part":
        huge.write_bytes(b"<p>x</p>" * 200_000)
    try:
        with pytest.raises(NewsletterError) as refused:
            load_manifest(path, config)
    finally:
        huge.unlink(missing_ok=True)

    assert str(refused.value).startswith(f"{path}: ")
    assert expected in str(refused.value)


def test_invoke_newsletter_refuses_a_foreign_editions_json_with_one_line(tmp_path, site, sink,
                                                                         capsys):
    database = tmp_path / "volg.sqlite3"
    settings = write_settings(tmp_path, site, f"sqlite:///{database}", sink.port)
    foreign = tmp_path / "editions.json"
    manifest = json.loads(manifest_file(site).read_text(encoding="utf-8"))
    foreign.write_text(json.dumps(dict(manifest, site={"name": "Ander bureau",
                                                       "url": "https://ander.example"})))

    assert run(str(settings), editions=str(foreign), send=True) == 1

    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"newsletter: error: {foreign}: is from another site")
    assert not database.exists(), "nothing is written for a refused editions.json"
    assert received(sink) == []


# --- SMTP trouble ------------------------------------------------------------------------


class GoesDown(SinkHandler):
    """A server that answers 421 to everything once it has accepted ``up_for`` messages."""

    def __init__(self, up_for: int, **options):
        super().__init__(**options)
        self.up_for = up_for
        self.back = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.accepted >= self.up_for and not self.back:
            return "421 4.3.2 service shutting down"
        envelope.mail_from = address
        return "250 2.1.0 OK"


class RefusesAfterData(SinkHandler):
    """A server that takes the data of ``refused`` and then refuses it for good."""

    def __init__(self, refused: str, **options):
        super().__init__(**options)
        self.refused = refused

    async def handle_DATA(self, server, session, envelope):
        if self.refused in envelope.rcpt_tos:
            return "554 5.7.1 message refused"
        return await super().handle_DATA(server, session, envelope)


class HoldsTheFirstMessage(SinkHandler):
    """A server that keeps the first message's final reply until ``release`` is set."""

    def __init__(self, **options):
        super().__init__(**options)
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.accepted == 0:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def own_sink(tmp_path):
    """Starts a sink with a handler of the test's choosing; stops it at the end."""
    started = []

    def start(handler):
        controller = SinkController(handler, hostname="127.0.0.1", port=0,
                                    server_hostname=SERVER_NAME, **SMTP_OPTIONS)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


def test_smtp_down_half_way_stops_and_a_rerun_delivers_the_rest_once(
        tmp_path, site, database_url, own_sink, manifest_for_sink):
    server = own_sink(GoesDown(4, maildir=tmp_path / "mail"))
    config, store, manifest = manifest_for_sink(server)
    readers = [f"lezer{number}@lezers.example" for number in range(10)]
    for reader in readers:
        subscribe(store, reader, "site", confirmed=APRIL)

    with pytest.raises(SmtpUnavailable) as stopped:
        send_at(store, config, manifest, site, "2024-04-10 12:00")

    message = str(stopped.value)
    assert f"the SMTP server 127.0.0.1:{server.port} is unavailable" in message
    assert "421" in message and "stopped after 4 messages" in message
    assert stopped.value.report.sent == 4
    assert len(store.deliveries([SENT])) == 4
    assert store.deliveries([SENDING, UNCERTAIN, FAILED]) == []

    server.handler.back = True
    report = send_at(store, config, manifest, site, "2024-04-10 12:30")

    assert report.sent == 6
    assert recipients(server) == sorted(readers)


@pytest.fixture
def manifest_for_sink(tmp_path, site, database_url):
    """The config, an open store and the manifest for a sink the test started itself."""
    opened = []

    def make(server):
        config = service_config(tmp_path, site, database_url=database_url,
                                smtp=SmtpSettings(port=server.port, retries=2, backoff=0.01,
                                                  timeout=10))
        store = open_store(database_url)
        opened.append(store)
        return config, store, load_manifest(manifest_file(site), config)

    yield make
    for store in opened:
        store.close()


def test_an_unreachable_server_stops_the_run_before_anything_is_journaled(
        tmp_path, site, database_url, manifest_for_sink):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config, store, manifest = manifest_for_sink(types.SimpleNamespace(port=closed_port))
    subscribe(store, "lezer@lezers.example", "site", confirmed=APRIL)

    with pytest.raises(SmtpUnavailable, match=f"127.0.0.1:{closed_port} cannot be reached"):
        send_at(store, config, manifest, site, "2024-04-10 12:00")

    assert store.deliveries(ALL_STATES) == []


def test_a_refused_recipient_does_not_stop_the_others(tmp_path, site, own_sink,
                                                      manifest_for_sink):
    server = own_sink(SinkHandler(maildir=tmp_path / "mail", refuse=["weg@lezers.example"]))
    config, store, manifest = manifest_for_sink(server)
    for reader in ("eerste@lezers.example", "weg@lezers.example", "laatste@lezers.example"):
        subscribe(store, reader, "site", confirmed=APRIL)

    report = send_at(store, config, manifest, site, "2024-04-10 12:00")

    assert report.sent == 2 and report.refused == 1
    assert recipients(server) == ["eerste@lezers.example", "laatste@lezers.example"]
    [failure] = store.deliveries([FAILED])
    assert failure.email == "weg@lezers.example" and "550" in failure.error
    assert "Refused for good by the mail server: 1" in "\n".join(report.lines())
    again = send_at(store, config, manifest, site, "2024-04-10 13:00")
    assert again.sent == 0 and again.plan.refused_before == 1


def test_a_refusal_after_the_data_leaves_the_article_unsent(tmp_path, site, own_sink,
                                                            manifest_for_sink, ids):
    server = own_sink(RefusesAfterData("weg@lezers.example", maildir=tmp_path / "mail"))
    config, store, manifest = manifest_for_sink(server)
    refused = subscribe(store, "weg@lezers.example", "site", confirmed=APRIL)
    subscribe(store, "blijft@lezers.example", "site", confirmed=APRIL)

    report = send_at(store, config, manifest, site, "2024-04-10 12:00")

    assert report.sent == 1 and report.refused == 1
    history = store.send_history(refused.id)
    assert history.delivered_articles == set()
    assert history.refused_editions == {ids["Kort overleg"]}


def test_a_connection_lost_after_the_data_is_uncertain_and_the_run_goes_on(
        tmp_path, site, own_sink, manifest_for_sink):
    # The server keeps the second message and crashes before its reply.
    server = own_sink(SinkHandler(maildir=tmp_path / "mail", drop_after=2, keep_dropped=True))
    config, store, manifest = manifest_for_sink(server)
    readers = [f"lezer{number}@lezers.example" for number in range(5)]
    for reader in readers:
        subscribe(store, reader, "site", confirmed=APRIL)

    report = send_at(store, config, manifest, site, "2024-04-10 12:00")

    assert report.sent == 4 and report.uncertain == 1
    [uncertain] = store.deliveries([UNCERTAIN])
    assert uncertain.email == readers[1]
    assert "Uncertain in this run: 1" in "\n".join(report.lines())
    assert recipients(server) == readers, "everyone exactly once, the uncertain one included"
    assert send_at(store, config, manifest, site, "2024-04-10 13:00").sent == 0


def test_uncertain_deliveries_are_reported_and_only_resent_on_request(store, config, manifest,
                                                                      site, sink, ids):
    crashed = subscribe(store, "onzeker@lezers.example", "site", confirmed=APRIL)
    subscribe(store, "zeker@lezers.example", "site", confirmed=APRIL)
    # What a sender killed between its journal commit and the server's reply leaves.
    assert store.begin_delivery(ids["Kort overleg"], crashed.id, [ids["Kort overleg"]],
                                at("2024-04-10 11:00"))
    assert "Uncertain from an interrupted run: 1" in "\n".join(
        plan(store, manifest, at("2024-04-10 12:00")).lines())

    first = send_at(store, config, manifest, site, "2024-04-10 12:00")
    second = send_at(store, config, manifest, site, "2024-04-10 12:10")

    assert first.sent == 1 and second.sent == 0
    assert [delivery.email for delivery in first.uncertain_before] == ["onzeker@lezers.example"]
    assert "onzeker@lezers.example" in "\n".join(first.lines())
    assert recipients(sink) == ["zeker@lezers.example"]

    on_request = send_at(store, config, manifest, site, "2024-04-10 12:20",
                         resend_uncertain=True)

    assert on_request.sent == 1 and on_request.released == 1
    assert recipients(sink) == ["onzeker@lezers.example", "zeker@lezers.example"]
    assert store.deliveries([UNCERTAIN]) == []


def test_two_senders_at_once_the_second_refuses(tmp_path, site, database_url, own_sink,
                                                manifest_for_sink, capsys):
    server = own_sink(HoldsTheFirstMessage(maildir=tmp_path / "mail"))
    config, store, manifest = manifest_for_sink(server)
    for number in range(3):
        subscribe(store, f"lezer{number}@lezers.example", "site", confirmed=APRIL)
    results = []
    first = threading.Thread(target=lambda: results.append(
        send_at(store, config, manifest, site, "2024-04-10 12:00")))
    first.start()
    try:
        assert server.handler.holding.wait(10), "the first sender never reached the server"
        settings = write_settings(tmp_path, site, database_url, server.port)
        with contextlib.closing(open_store(database_url)) as second_store:
            with pytest.raises(SenderBusy, match="another newsletter sender is running"):
                send_at(second_store, config, manifest, site, "2024-04-10 12:00")

        assert run(str(settings), send=True) == 1
        assert "newsletter: error: another newsletter sender is running" in \
            capsys.readouterr().err
    finally:
        server.handler.release.set()
        first.join(30)
    assert results[0].sent == 3
    assert len(recipients(server)) == 3


def test_an_edition_without_the_unsubscribe_link_is_not_sent(tmp_path, site, sink, database_url):
    output = shutil.copytree(site.output, tmp_path / "output")
    config = service_config(tmp_path, site, output_path=output, database_url=database_url,
                            smtp=SmtpSettings(port=sink.port, retries=0, timeout=10))
    manifest = load_manifest(manifest_file(site), config)
    [edition] = [edition for edition in manifest["editions"] if edition["title"] == "Kort overleg"]
    text = output / edition["text"]
    text.write_text(text.read_text(encoding="utf-8").replace(PLACEHOLDER, "(geen link)"),
                    encoding="utf-8")
    with contextlib.closing(open_store(database_url)) as store:
        subscribe(store, "lezer@lezers.example", "site", confirmed=APRIL)

        with pytest.raises(NewsletterError, match="text part does not contain the placeholder"):
            send(store, config, manifest, site.settings, at("2024-04-10 12:00"))

        assert store.deliveries(ALL_STATES) == []
    assert received(sink) == []


def test_resend_uncertain_without_send_is_refused(tmp_path, site, capsys):
    settings = write_settings(tmp_path, site, f"sqlite:///{tmp_path / 'volg.sqlite3'}", 25)

    assert run(str(settings), resend_uncertain=True) == 1

    assert "--resend-uncertain only makes sense with --send" in capsys.readouterr().err
