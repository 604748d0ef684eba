"""Crash test: the sender killed at random moments, and the SMTP server killed half-way.

The sender runs as the operator runs it (``python -m service.newsletter --send``)
in its own process, and so does the sink, which logs every message it accepts
before its 250 reply. A loop (seeded, so a failure can be replayed) kills the sender
with SIGKILL about 20 times, at random moments of its start-up and its sending, and
starts it again each time; a last run finishes. Counted at the sink: every subscriber
has exactly one copy, but for the messages in flight at a kill, which the sender
reports as uncertain and which arrived at most once.
"""

import collections
import contextlib
import datetime
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.store import SENDING, SENT, UNCERTAIN, SubscriptionRecord, open_store
from service.test_newsletter import CONTENT, write_settings
from tests.support import ROOT, publish_site

SUBSCRIBERS = 200
KILLS = 20
SEED = 20240507
# After the second article and before the fourth: each subscriber is due exactly one
# article (Notuleren zonder notulen, 7 May 2024), so the run sends one edition.
CONFIRMED_AT = datetime.datetime(2024, 4, 20, 12, 0, tzinfo=datetime.UTC)
ENVIRONMENT = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]))
RUN_TIMEOUT = 60


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return publish_site(tmp_path_factory.mktemp("crash") / "output", PATH=str(CONTENT))


def readers() -> list[str]:
    return [f"lezer{number:03d}@lezers.example" for number in range(SUBSCRIBERS)]


def add_subscribers(database_url: str) -> None:
    records = [SubscriptionRecord(address, "site", "confirmed", "c0ffee", "Toestemmingstekst",
                                  CONFIRMED_AT, CONFIRMED_AT, None, None, None, "form", False)
               for address in readers()]
    with contextlib.closing(open_store(database_url)) as store:
        assert store.import_subscriptions(records, lambda: secrets.token_urlsafe(24),
                                          CONFIRMED_AT) == SUBSCRIBERS


class SinkProcess:
    """``python -m service.smtp_sink`` in a process of its own, logging to ``log``."""

    def __init__(self, log: Path, port: int = 0):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.smtp_sink", "--port", str(port), "--log", str(log)],
            cwd=ROOT, env=ENVIRONMENT, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if not self.process.stdout.closed:
            self.process.stdout.close()


def sender(settings: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "service.newsletter", "--settings", str(settings), "--send"],
        cwd=ROOT, env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def logged(log: Path) -> int:
    try:
        return log.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def deliveries_at(log: Path) -> collections.Counter:
    return collections.Counter(line.split("\t")[0]
                               for line in log.read_text(encoding="utf-8").splitlines())


def kill_at_random(process: subprocess.Popen, log: Path, rng: random.Random) -> bool:
    """SIGKILL during start-up, or right after a random number of messages went out.

    True when the sender was killed with work left; False when it had finished.
    """
    messages = rng.randint(0, 8)
    if messages == 0:
        time.sleep(rng.uniform(0.0, 0.5))
    else:
        target = logged(log) + messages
        deadline = time.monotonic() + RUN_TIMEOUT
        while logged(log) < target and process.poll() is None:
            assert time.monotonic() < deadline, "the sender stopped sending"
            time.sleep(0.0005)
        # Somewhere in the next message: planning, rendering, journal, SMTP or reply.
        time.sleep(rng.uniform(0.0, 0.003))
    working = process.poll() is None
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=RUN_TIMEOUT)
    assert working or process.returncode == 0, err
    return working


def finish(settings: Path) -> str:
    process = sender(settings)
    out, err = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == 0, err
    return out


def check_exactly_once(log: Path, database_url: str, crashes: int) -> set:
    """Every subscriber has one copy; an uncertain one at most one. Returns the uncertain."""
    counts = deliveries_at(log)
    with contextlib.closing(open_store(database_url)) as store:
        uncertain = {delivery.email for delivery in store.deliveries([UNCERTAIN])}
        assert store.deliveries([SENDING]) == []
        sent = {delivery.email for delivery in store.deliveries([SENT])}
    assert set(counts) <= set(readers())
    for address in readers():
        if address in uncertain:
            assert counts[address] <= 1, address
        else:
            assert counts[address] == 1, address
            assert address in sent
    # At most the one message in flight at each crash is uncertain.
    assert len(uncertain) <= crashes
    return uncertain


def check_reported(uncertain: set, output: str, origin: str) -> None:
    if uncertain:
        assert f"Uncertain {origin}: {len(uncertain)} " in output
        for address in sorted(uncertain)[:20]:
            assert address in output
    else:
        assert "Uncertain" not in output


def test_killing_the_sender_at_random_never_duplicates_or_skips(tmp_path, site, database_url):
    add_subscribers(database_url)
    log = tmp_path / "sink.log"
    sink = SinkProcess(log)
    try:
        settings = write_settings(tmp_path, site, database_url, sink.port)
        rng = random.Random(SEED)
        started = time.monotonic()
        crashes = sum(kill_at_random(sender(settings), log, rng) for _kill in range(KILLS))
        before_last_run = logged(log)
        output = finish(settings)
    finally:
        sink.stop()

    assert crashes >= KILLS // 2, "most kills should land while the sender has work left"
    uncertain = check_exactly_once(log, database_url, crashes=crashes)
    check_reported(uncertain, output, "from an interrupted run")
    print(f"{crashes} of {KILLS} kills with work left, in {time.monotonic() - started:.1f} s; "
          f"{before_last_run} messages before the last run; uncertain: {len(uncertain)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_killing_the_smtp_server_half_way_loses_at_most_the_message_in_flight(
        tmp_path, site, database_url):
    add_subscribers(database_url)
    log = tmp_path / "sink.log"
    port = free_port()
    sink = SinkProcess(log, port)
    settings = write_settings(tmp_path, site, database_url, port)
    process = sender(settings)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while logged(log) < SUBSCRIBERS // 2:
            assert process.poll() is None and time.monotonic() < deadline, "sender stopped"
            time.sleep(0.0005)
        sink.kill()
        at_kill = logged(log)
        # The sender retries with back-off (1 s, then 2 s, ...) until the server is back.
        time.sleep(0.3)
        sink = SinkProcess(log, port)
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
        sink.stop()

    assert process.returncode == 0, err
    assert logged(log) > at_kill, "the sender went on with the restarted server"
    uncertain = check_exactly_once(log, database_url, crashes=1)
    check_reported(uncertain, out, "in this run")
    assert f"Sent {SUBSCRIBERS - len(uncertain)} messages" in out
