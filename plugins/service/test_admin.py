"""``invoke subscribers``: the list moves between databases with its consent proof, and a person
can be erased completely; on SQLite and on PostgreSQL."""

import csv
import datetime
import io
import secrets
import stat
from pathlib import Path

import pytest

from service.admin import (
    FORMULA_STARTS,
    ImportRefused,
    delete,
    export,
    import_file,
    list_subscriptions,
    read_import,
    run,
    show_stats,
)
from service.store import SubscriptionRecord, open_store

TEST_DATA = Path(__file__).parent / "test_data" / "admin"
NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
IMPORTED_AT = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)
CONSENT_TEXT = ('Ruimte & Richting stuurt je "hooguit één keer per week" een e-mail,\n'
                "afmelden kan altijd.")
PERSON_TABLES = ("subscriptions", "deliveries", "delivered_articles")


@pytest.fixture
def store(database_url):
    opened = open_store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def fresh_store(request, database_url, tmp_path):
    """A second, empty database of the same kind, to import into."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    opened = open_store(url)
    yield opened
    opened.close()


def subscribe(store, email, scope="site", confirm=True, consent_version="v1",
              consent_text=CONSENT_TEXT, ip_hash="ip-hash", user_agent_hash="ua-hash", now=NOW):
    token = f"bevestig-{email}-{scope}"
    subscriber_id = store.request_subscription(
        email, scope, consent_version, consent_text, ip_hash, user_agent_hash, token,
        now + datetime.timedelta(hours=48), now, secrets.token_urlsafe(32))
    if confirm:
        assert store.confirm(token, now + datetime.timedelta(minutes=5)) == "confirmed"
    return subscriber_id


def a_realistic_list(store):
    """Confirmed, pending, unsubscribed and legacy subscriptions, several scopes each."""
    subscribe(store, "lezer@voorbeeld.nl")
    subscribe(store, "lezer@voorbeeld.nl", "series:managen")
    subscribe(store, "twijfel@voorbeeld.nl", "category:samenwerken", confirm=False)
    subscribe(store, "weg@voorbeeld.nl")
    leaving = store.subscriber_by_email("weg@voorbeeld.nl")
    assert store.unsubscribe(leaving.unsubscribe_token, NOW + datetime.timedelta(days=3))
    legacy = SubscriptionRecord(
        "oud@voorbeeld.nl", "site", "confirmed", None, None, None,
        datetime.datetime(2019, 6, 1, tzinfo=datetime.UTC), None, None, None, "import-legacy",
        True)
    assert store.import_subscriptions([legacy], lambda: secrets.token_urlsafe(32), NOW) == 1


def with_deliveries(store, email):
    """A subscriber with two scopes, a sent edition in the journal and a queued mail."""
    subscriber_id = subscribe(store, email)
    subscribe(store, email, "series:managen")
    assert store.begin_delivery("2026-03-09", subscriber_id, ["artikel-a", "artikel-b"], NOW)
    store.finish_delivery("2026-03-09", subscriber_id, "sent", NOW, message_id="<1@test>")
    store.queue_mail("afmeldlink", email, b"Subject: afmelden\r\n\r\nklik\r\n", NOW)
    return subscriber_id


def rows_of(store, subscriber_id, email):
    """Every row the tables hold about one person, read straight from the tables."""
    held = {"subscribers": store.all("SELECT id, email, unsubscribe_token, created_at, legacy "
                                     "FROM subscribers WHERE id = ? OR email = ?",
                                     (subscriber_id, email))}
    for table in PERSON_TABLES:
        held[table] = sorted(tuple(row) for row in store.all(
            f"SELECT * FROM {table} WHERE subscriber_id = ?", (subscriber_id,)))
    held["outbox"] = [tuple(row[:3]) for row in store.all(
        "SELECT id, kind, recipient FROM outbox WHERE recipient = ?", (email,))]
    held["subscribers"] = [tuple(row) for row in held["subscribers"]]
    return held


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as lines:
        return list(csv.reader(lines))


def exported(store, tmp_path, name="lijst.csv"):
    path = tmp_path / name
    assert export(store, io.StringIO(), str(path)) == 0
    return path


# --- export and import --------------------------------------------------------------


def test_an_export_imported_into_a_fresh_database_gives_identical_records(
        store, fresh_store, tmp_path):
    a_realistic_list(store)
    path = exported(store, tmp_path)

    report = io.StringIO()
    assert import_file(fresh_store, report, str(path), legacy=True, now=IMPORTED_AT) == 0

    assert list(fresh_store.subscription_records()) == list(store.subscription_records())
    assert "Imported 5 subscription(s)" in report.getvalue()
    assert "1 row(s) are pending" in report.getvalue()
    [header, *rows] = read_csv(path)
    assert header[:3] == ["email", "scope", "state"] and len(rows) == 5
    # Every imported address gets an unsubscribe link of its own, not the old database's.
    for email in ("lezer@voorbeeld.nl", "oud@voorbeeld.nl"):
        old, new = store.subscriber_by_email(email), fresh_store.subscriber_by_email(email)
        assert new.unsubscribe_token != old.unsubscribe_token
        assert len(new.unsubscribe_token) >= 43


def test_the_export_holds_the_full_consent_proof(store, tmp_path):
    subscribe(store, "lezer@voorbeeld.nl", "series:managen")
    path = exported(store, tmp_path)

    [header, values] = read_csv(path)
    row = dict(zip(header, values, strict=True))
    assert row == {
        "email": "lezer@voorbeeld.nl", "scope": "series:managen", "state": "confirmed",
        "consent_version": "v1", "consent_text": CONSENT_TEXT,
        "consented_at": "2026-03-02T09:30:00.000000Z", "confirmed_at": "2026-03-02T09:35:00.000000Z",
        "unsubscribed_at": "", "ip_hash": "ip-hash", "user_agent_hash": "ua-hash",
        "source": "form", "legacy": "no"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rows_without_consent_are_refused_by_line(store):
    path = TEST_DATA / "zonder-toestemming.csv"
    with pytest.raises(ImportRefused) as refused:
        import_file(store, io.StringIO(), str(path))

    assert [(p.line, p.field) for p in refused.value.problems] == [
        (3, "consent_version, consent_text, consented_at"), (6, "consented_at")]
    assert "--legacy" in refused.value.problems[0].reason
    assert list(store.subscription_records()) == []


def test_rows_without_consent_come_in_as_legacy_when_told(store):
    path = TEST_DATA / "zonder-toestemming.csv"
    report = io.StringIO()
    assert import_file(store, report, str(path), legacy=True, now=IMPORTED_AT) == 0

    records = {record.email: record for record in store.subscription_records()}
    assert sorted(records) == ["half@voorbeeld.nl", "met@voorbeeld.nl", "ook-met@voorbeeld.nl",
                               "zonder@voorbeeld.nl"]
    legacy = {email for email, record in records.items() if record.legacy}
    assert legacy == {"zonder@voorbeeld.nl", "half@voorbeeld.nl"}
    assert {records[email].source for email in legacy} == {"import-legacy"}
    assert (records["met@voorbeeld.nl"].source, records["met@voorbeeld.nl"].consent_version) == (
        "form", "v1")
    # What the old tool knew stays, and nothing is made up beyond it.
    assert records["zonder@voorbeeld.nl"].confirmed_at == datetime.datetime(
        2019, 6, 1, tzinfo=datetime.UTC)
    assert records["half@voorbeeld.nl"].consent_text == "Oude tekst."
    assert records["half@voorbeeld.nl"].consented_at is None
    assert "2 row(s) without consent proof are marked legacy" in report.getvalue()


def test_a_plain_address_list_from_an_old_tool_comes_in_as_legacy(store):
    path = TEST_DATA / "oude-lijst.csv"
    with pytest.raises(ImportRefused) as refused:
        import_file(store, io.StringIO(), str(path))
    assert [p.line for p in refused.value.problems] == [2, 3, 4]

    assert import_file(store, io.StringIO(), str(path), legacy=True, now=IMPORTED_AT) == 0
    records = list(store.subscription_records())
    assert [(r.email, r.scope, r.state, r.confirmed_at, r.legacy, r.source) for r in records] == [
        ("anna@voorbeeld.nl", "site", "confirmed", IMPORTED_AT, True, "import-legacy"),
        ("piet@voorbeeld.nl", "category:samenwerken", "confirmed", IMPORTED_AT, True,
         "import-legacy"),
        ("piet@voorbeeld.nl", "series:managen", "confirmed", IMPORTED_AT, True,
         "import-legacy")]
    # The sender sees them as ordinary confirmed subscribers.
    assert len(list(store.confirmed_subscriptions())) == 3


def test_one_bad_row_imports_nothing_and_every_bad_line_is_named(store):
    path = TEST_DATA / "een-foute-regel.csv"
    with pytest.raises(ImportRefused) as refused:
        import_file(store, io.StringIO(), str(path), legacy=True)

    assert [(p.line, p.field) for p in refused.value.problems] == [
        (3, "email"), (4, "scope"), (6, "state"), (6, "consented_at"), (7, "row")]
    assert list(store.subscription_records()) == []
    assert store.one("SELECT COUNT(*) FROM subscribers")[0] == 0


def test_the_command_lists_bad_lines_as_file_line_field_reason(
        store, database_url, tmp_path, capsys, monkeypatch):
    settings = settings_file(tmp_path, database_url, monkeypatch)
    path = TEST_DATA / "een-foute-regel.csv"
    assert run("import", settings, file=str(path)) == 1

    errors = capsys.readouterr().err.splitlines()
    assert errors[0].startswith(f"{path}:3: email: 'geen-adres': ")
    assert "@-sign" in errors[0]
    assert [line.split(": ")[0:2] for line in errors[1:5]] == [
        [f"{path}:4", "scope"], [f"{path}:6", "state"], [f"{path}:6", "consented_at"],
        [f"{path}:7", "row"]]
    assert errors[5] == f"Nothing imported: 5 problem(s) in {path}."
    assert store.one("SELECT COUNT(*) FROM subscriptions")[0] == 0


def test_an_unknown_column_is_named_before_any_row(store):
    with pytest.raises(ImportRefused) as refused:
        import_file(store, io.StringIO(), str(TEST_DATA / "onbekende-kolom.csv"), legacy=True)
    assert [(p.line, p.field) for p in refused.value.problems] == [(1, "e-mail"), (1, "email")]


def test_importing_again_adds_nothing(store, tmp_path):
    a_realistic_list(store)
    before = list(store.subscription_records())
    path = exported(store, tmp_path)

    report = io.StringIO()
    assert import_file(store, report, str(path), legacy=True) == 0
    assert "Imported 0 subscription(s)" in report.getvalue()
    assert "5 already present" in report.getvalue()
    assert list(store.subscription_records()) == before
    assert store.one("SELECT COUNT(*) FROM subscribers")[0] == 4


def test_a_dry_run_counts_but_writes_nothing(store):
    report = io.StringIO()
    path = TEST_DATA / "oude-lijst.csv"
    assert import_file(store, report, str(path), legacy=True, dry_run=True) == 0
    assert "Would import 3 subscription(s)" in report.getvalue()
    assert store.one("SELECT COUNT(*) FROM subscribers")[0] == 0
    assert list(store.subscription_records()) == []


def test_spreadsheet_formulas_in_the_data_are_neutralised(store, fresh_store, tmp_path):
    subscribe(store, "=1+1@voorbeeld.nl", consent_text='=HYPERLINK("https://kwaad.example","klik")',
              ip_hash="+31", user_agent_hash="@SUM(A1)")
    subscribe(store, "-2@voorbeeld.nl", consent_version="-1", consent_text="\r=1+1")
    subscribe(store, "citaat@voorbeeld.nl", consent_text="'citaat' van de redactie")
    subscribe(store, "tab@voorbeeld.nl", consent_text="\t=1+1")
    path = exported(store, tmp_path)

    [_header, *rows] = read_csv(path)
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert {"'=1+1@voorbeeld.nl", "'-2@voorbeeld.nl", "'+31", "'@SUM(A1)", "'-1", "'\r=1+1",
            "'\t=1+1", '\'=HYPERLINK("https://kwaad.example","klik")',
            "''citaat' van de redactie"} <= set(cells)

    # The guard comes off again on import: the values are what the readers gave.
    assert import_file(fresh_store, io.StringIO(), str(path)) == 0
    assert list(fresh_store.subscription_records()) == list(store.subscription_records())


def test_a_file_that_is_not_utf8_is_named(store, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("email\nren\xe9e@voorbeeld.nl\n".encode("latin-1"))
    with pytest.raises(ImportRefused) as refused, path.open(encoding="utf-8-sig",
                                                            newline="") as lines:
        read_import(lines, True, NOW)
    [problem] = refused.value.problems
    assert (problem.field, problem.reason) == ("file", "not UTF-8 text; save it as 'CSV UTF-8'")


# --- delete ---------------------------------------------------------------------------


def test_delete_erases_everything_of_the_person_and_nothing_else(store):
    person = with_deliveries(store, "lezer@voorbeeld.nl")
    other = with_deliveries(store, "ander@voorbeeld.nl")
    held = rows_of(store, person, "lezer@voorbeeld.nl")
    assert all(held.values()), held
    others_before = rows_of(store, other, "ander@voorbeeld.nl")

    report = io.StringIO()
    # The person writes from their mail program, in another case than the form kept.
    assert delete(store, report, "Lezer@VOORBEELD.nl", yes=True) == 0

    assert rows_of(store, person, "lezer@voorbeeld.nl") == {
        "subscribers": [], "subscriptions": [], "deliveries": [], "delivered_articles": [],
        "outbox": []}
    for table in ("subscribers", "subscriptions", "deliveries", "delivered_articles", "outbox"):
        text = " ".join(str(value) for row in store.all(f"SELECT * FROM {table}")
                        for value in row).lower()
        assert "lezer@" not in text, table
    assert rows_of(store, other, "ander@voorbeeld.nl") == others_before
    assert store.stats()["erased"] == 1
    assert "Erased lezer@voorbeeld.nl. Erasures so far: 1." in report.getvalue()


def test_deleting_an_unknown_address_says_so_and_succeeds(store):
    with_deliveries(store, "ander@voorbeeld.nl")
    report = io.StringIO()
    assert delete(store, report, "niemand@voorbeeld.nl", yes=True) == 0
    assert report.getvalue() == "No data held for niemand@voorbeeld.nl: nothing to erase.\n"
    assert store.stats()["erased"] == 0
    assert store.stats()["subscribers"] == 1


def test_delete_asks_first_and_erases_nothing_without_a_yes(store):
    person = with_deliveries(store, "lezer@voorbeeld.nl")
    held = rows_of(store, person, "lezer@voorbeeld.nl")
    questions = []

    def answer_no(question):
        questions.append(question)
        return "nee"

    def no_terminal(question):
        raise EOFError

    report = io.StringIO()
    assert delete(store, report, "lezer@voorbeeld.nl", ask=answer_no) == 1
    assert delete(store, report, "lezer@voorbeeld.nl", ask=no_terminal) == 1
    assert "cannot be undone" in questions[0]
    assert ("lezer@voorbeeld.nl: 1 subscriber, 2 subscription(s), 1 journal row(s), "
            "2 delivered article(s), 1 queued mail(s)") in report.getvalue()
    assert rows_of(store, person, "lezer@voorbeeld.nl") == held
    assert store.stats()["erased"] == 0

    assert delete(store, report, "lezer@voorbeeld.nl", ask=lambda question: "yes") == 0
    assert store.subscriber_by_email("lezer@voorbeeld.nl") is None
    assert store.stats()["erased"] == 1


# --- list, stats and the command --------------------------------------------------------


def test_list_shows_one_line_per_subscription_and_filters(store):
    a_realistic_list(store)
    everything, confirmed = io.StringIO(), io.StringIO()
    list_subscriptions(store, everything)
    list_subscriptions(store, confirmed, state="confirmed", scope="site")

    lines = everything.getvalue().splitlines()
    assert lines[0].split() == ["ADDRESS", "SCOPE", "STATE", "CONFIRMED", "SOURCE"]
    assert lines[1].split() == ["lezer@voorbeeld.nl", "series:managen", "confirmed",
                                "2026-03-02", "form"]
    assert ["oud@voorbeeld.nl", "site", "confirmed", "2019-06-01", "import-legacy",
            "(legacy)"] in [line.split() for line in lines]
    assert ["twijfel@voorbeeld.nl", "category:samenwerken", "pending", "-", "form"] in [
        line.split() for line in lines]
    assert lines[-1] == "5 subscription(s)"
    assert [line.split()[0] for line in confirmed.getvalue().splitlines()[1:-1]] == [
        "lezer@voorbeeld.nl", "oud@voorbeeld.nl"]
    assert confirmed.getvalue().splitlines()[-1] == (
        "2 subscription(s) with state confirmed and scope site")


def test_stats_count_subscribers_scopes_deliveries_outbox_and_erasures(store):
    a_realistic_list(store)
    with_deliveries(store, "ander@voorbeeld.nl")
    with_deliveries(store, "wis@voorbeeld.nl")
    store.erase("wis@voorbeeld.nl")
    report = io.StringIO()
    show_stats(store, report)

    assert report.getvalue().splitlines() == [
        "Subscribers:       5 (3 with a confirmed subscription)",
        "Subscriptions:     5 confirmed, 1 pending, 1 unsubscribed",
        "  category:samenwerken: 1 pending",
        "  series:managen: 2 confirmed",
        "  site: 3 confirmed, 1 unsubscribed",
        "Deliveries:        1 sent",
        "Outbox:            1 mail(s) waiting",
        "Erased on request: 1 person(s) (only this count is kept)",
    ]


def settings_file(tmp_path, database_url, monkeypatch):
    for name in ("ADVIESBLOG_DATABASE_URL", "ADVIESBLOG_DATA", "ADVIESBLOG_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "site" / "publishconf.py"
    path.parent.mkdir()
    path.write_text(f"SITENAME = 'Testsite'\nSITEURL = 'https://testsite.example'\n"
                    f"SITE_CONTACT = {{'email': 'redactie@testsite.example'}}\n"
                    f"SERVICE_DATABASE_URL = {database_url!r}\n", encoding="utf-8")
    return path


def test_the_command_exports_to_a_private_file_with_a_warning(
        store, database_url, tmp_path, capsys, monkeypatch):
    settings = settings_file(tmp_path, database_url, monkeypatch)
    a_realistic_list(store)
    out = tmp_path / "bewaar" / "abonnees.csv"

    assert run("export", settings, out=str(out)) == 0
    assert "holds personal data" in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(read_csv(out)) == 6

    assert run("export", settings) == 0
    assert capsys.readouterr().out == out.read_bytes().decode("utf-8")

    published = settings.parent / "output" / "abonnees.csv"
    assert run("export", settings, out=str(published)) == 1
    assert "published with the site" in capsys.readouterr().err
    assert not published.exists()


def test_the_command_names_wrong_use_in_one_line(store, database_url, tmp_path, capsys,
                                                 monkeypatch):
    settings = settings_file(tmp_path, database_url, monkeypatch)
    assert run("opschonen", settings) == 2
    assert run("list", settings, legacy=True) == 2
    assert run("import", settings) == 2
    assert run("import", settings, file=str(tmp_path / "weg.csv")) == 1
    assert run("stats", tmp_path / "geen-instellingen.py") == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        "subscribers: unknown action 'opschonen'; expected one of list, stats, export, import, "
        "delete",
        "subscribers list: --legacy does not apply here",
        "subscribers import: which file? --file FILE",
        f"subscribers import: {tmp_path / 'weg.csv'}: no such file",
        f"subscribers stats: {tmp_path / 'geen-instellingen.py'}: no such settings file",
    ]


def test_the_command_deletes_and_counts(store, database_url, tmp_path, capsys, monkeypatch):
    settings = settings_file(tmp_path, database_url, monkeypatch)
    with_deliveries(store, "lezer@voorbeeld.nl")
    assert run("delete", settings, address="lezer@voorbeeld.nl", yes=True) == 0
    assert run("stats", settings) == 0
    output = capsys.readouterr().out
    assert "Erased lezer@voorbeeld.nl." in output
    assert "Erased on request: 1 person(s)" in output
    assert store.subscriber_by_email("lezer@voorbeeld.nl") is None
