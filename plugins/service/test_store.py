"""The store on SQLite and on PostgreSQL: the same behaviour from the same code."""

import datetime
import sqlite3
import threading

import pytest

from service.store import (
    CONFIRMED,
    SENT,
    UNCERTAIN,
    SchemaTooNew,
    SenderBusy,
    StoreError,
    from_text,
    open_store,
    sqlite_path,
    to_text,
)

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(hours=1)


@pytest.fixture
def store(database_url):
    opened = open_store(database_url)
    yield opened
    opened.close()


def sign_up(store, email="lezer@voorbeeld.nl", scope="site", token="bevestig-1", now=NOW):
    return store.request_subscription(
        email, scope, "v1", "Ik wil elke week mail.", "ip-hash", "ua-hash", token,
        now + datetime.timedelta(hours=48), now, f"afmeld-{email}-{scope}")


def test_times_keep_their_order_as_text():
    early, late = NOW, NOW + datetime.timedelta(microseconds=1)
    assert to_text(early) < to_text(late)
    assert from_text(to_text(late)) == late
    with pytest.raises(ValueError, match="naive"):
        to_text(datetime.datetime(2026, 1, 1))


def test_migrating_twice_changes_nothing(store):
    sign_up(store)
    assert store.migrate() == store.schema_version()
    assert store.subscriber_by_email("lezer@voorbeeld.nl") is not None


def test_a_newer_schema_is_never_opened(database_url):
    store = open_store(database_url)
    store.execute("UPDATE schema_version SET version = version + 1")
    store.close()
    with pytest.raises(SchemaTooNew, match="newer adviesblog"):
        open_store(database_url)


def test_confirming_a_sign_up(store):
    subscriber_id = sign_up(store)
    pending = store.confirmation("bevestig-1")
    assert (pending.subscriber_id, pending.state, pending.scope) == (subscriber_id, "pending", "site")
    assert list(store.confirmed_subscriptions()) == []

    assert store.confirm("bevestig-1", LATER) == "confirmed"
    assert store.confirm("bevestig-1", LATER) == "already"
    assert store.confirm("vervalst", LATER) == "unknown"
    [subscription] = store.confirmed_subscriptions()
    assert (subscription.email, subscription.scope, subscription.confirmed_at) == (
        "lezer@voorbeeld.nl", "site", LATER)
    [record] = store.subscription_records()
    assert (record.consent_version, record.consent_text, record.consented_at, record.ip_hash) == (
        "v1", "Ik wil elke week mail.", NOW, "ip-hash")


def test_an_expired_link_confirms_nothing(store):
    sign_up(store)
    assert store.confirm("bevestig-1", NOW + datetime.timedelta(hours=49)) == "expired"
    assert store.stats()["subscriptions_confirmed"] == 0


def test_signing_up_again_keeps_the_confirmed_consent(store):
    sign_up(store)
    store.confirm("bevestig-1", LATER)
    store.request_subscription("lezer@voorbeeld.nl", "site", "v2", "Andere tekst", "x", "y",
                               "bevestig-2", LATER + datetime.timedelta(hours=48), LATER, "nieuw")
    [record] = store.subscription_records()
    assert (record.state, record.consent_version) == (CONFIRMED, "v1")
    assert store.subscriber_by_email("lezer@voorbeeld.nl").unsubscribe_token == \
        "afmeld-lezer@voorbeeld.nl-site"


def test_unsubscribing_ends_every_scope_and_a_new_sign_up_needs_confirming(store):
    sign_up(store, scope="site", token="t1")
    sign_up(store, scope="series:managen", token="t2")
    store.confirm("t1", LATER)
    store.confirm("t2", LATER)
    token = store.subscriber_by_email("lezer@voorbeeld.nl").unsubscribe_token
    assert store.unsubscribe(token, LATER) is True
    assert store.unsubscribe("onbekend", LATER) is False
    assert {r.state for r in store.subscription_records()} == {"unsubscribed"}
    sign_up(store, scope="site", token="t3", now=LATER)
    assert store.confirmation("t3").state == "pending"


def test_the_journal_never_claims_an_article_twice(store):
    subscriber_id = sign_up(store)
    assert store.begin_delivery("editie-1", subscriber_id, ["a1"], NOW)
    assert not store.begin_delivery("editie-1", subscriber_id, ["a1"], NOW)
    # A digest that holds an article already sent is refused whole.
    assert not store.begin_delivery("overzicht", subscriber_id, ["a1", "a2"], NOW)
    assert store.send_history(subscriber_id).delivered_articles == {"a1"}
    store.finish_delivery("editie-1", subscriber_id, SENT, LATER, message_id="<m@x>")
    assert store.send_history(subscriber_id).last_delivery_at == NOW


def test_a_crashed_delivery_becomes_uncertain_and_can_be_released(store):
    subscriber_id = sign_up(store)
    store.begin_delivery("editie-1", subscriber_id, ["a1"], NOW)
    assert store.mark_uncertain() == 1
    [uncertain] = store.deliveries([UNCERTAIN])
    assert (uncertain.edition_id, uncertain.email) == ("editie-1", "lezer@voorbeeld.nl")
    store.release_delivery("editie-1", subscriber_id)
    assert store.send_history(subscriber_id).delivered_articles == set()


def test_erasing_a_person_leaves_only_a_count(store):
    keep = sign_up(store, email="blijft@voorbeeld.nl", token="k")
    gone = sign_up(store)
    store.confirm("bevestig-1", LATER)
    store.begin_delivery("editie-1", gone, ["a1"], LATER)
    store.begin_delivery("editie-1", keep, ["a1"], LATER)
    store.queue_mail("bevestiging", "lezer@voorbeeld.nl", b"bericht", LATER)

    assert store.erase("lezer@voorbeeld.nl") is True
    assert store.erase("lezer@voorbeeld.nl") is False
    for table in ("subscribers", "subscriptions", "deliveries", "delivered_articles", "outbox"):
        rows = store.all(f"SELECT * FROM {table}")
        assert "lezer@voorbeeld.nl" not in repr(rows), table
        assert all(gone not in row[:2] for row in rows if table != "outbox"), table
    assert store.stats()["erased"] == 1
    assert store.send_history(keep).delivered_articles == {"a1"}


def test_one_sender_at_a_time(store):
    entered = threading.Event()
    release = threading.Event()

    def first_sender():
        with store.sender_lock():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=first_sender)
    thread.start()
    assert entered.wait(10)
    try:
        with pytest.raises(SenderBusy, match="another newsletter sender"):
            with store.sender_lock():
                pass
    finally:
        release.set()
        thread.join()
    with store.sender_lock():
        pass


def test_a_failed_write_leaves_nothing_half_done(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.execute("INSERT INTO counters (name, value) VALUES ('x', 1)")
            raise RuntimeError("crash midway")
    assert store.all("SELECT * FROM counters") == []


def test_a_full_disk_is_named_and_writes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'volg.sqlite3'}"
    store = open_store(url)
    sign_up(store, email="eerste@voorbeeld.nl", token="t0")
    pages = store.one("PRAGMA page_count")[0]
    store.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="disk is full"):
        for number in range(200):
            sign_up(store, email=f"lezer{number}-{'x' * 200}@voorbeeld.nl", token=f"t{number + 1}")
    count = store.stats()["subscribers"]
    assert count == len(list(store.subscription_records()))
    store.close()


def test_a_database_locked_by_another_writer_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr("service.store.BUSY_TIMEOUT_SECONDS", 0.2)
    url = f"sqlite:///{tmp_path / 'volg.sqlite3'}"
    store = open_store(url)
    other = sqlite3.connect(sqlite_path(url), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            sign_up(store)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sign_up(store) > 0
    store.close()


def test_a_wrong_database_url_is_named():
    with pytest.raises(StoreError, match="expected sqlite:///path or postgresql"):
        open_store("mysql://iemand@host/db")


def test_the_commands_refuse_a_database_that_does_not_exist(database_url):
    with pytest.raises(StoreError, match="no subscriber database here yet"):
        open_store(database_url, create=False)
    open_store(database_url).close()
    open_store(database_url, create=False).close()


def test_sign_ups_never_confirmed_are_forgotten_after_their_link_expired(store):
    sign_up(store, email="bevestigt@voorbeeld.nl", token="t1")
    store.confirm("t1", LATER)
    sign_up(store, email="vergeet@voorbeeld.nl", token="t2")
    assert store.prune_unconfirmed(NOW + datetime.timedelta(hours=47)) == 0
    assert store.prune_unconfirmed(NOW + datetime.timedelta(hours=49)) == 1
    assert [r.email for r in store.subscription_records()] == ["bevestigt@voorbeeld.nl"]
    assert store.subscriber_by_email("vergeet@voorbeeld.nl") is None


def test_parallel_requests_cannot_all_slip_under_a_limit(store):
    granted = []

    def request():
        used_up = store.take_allowance([("signup-address", "sleutel", 3)],
                                       NOW - datetime.timedelta(hours=1), NOW)
        granted.append(used_up is None)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 3
    assert store.count_events("signup-address", "sleutel", NOW - datetime.timedelta(hours=1)) == 3
