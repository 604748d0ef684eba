"""Time the newsletter sender: one edition to N subscribers, journal included.

Publishes the sample site with one extra, long article (an email edition of about
20 KB of inlined HTML), puts N confirmed subscribers in a fresh SQLite store, starts
the SMTP sink in its own process (``service.smtp_sink``, logging only), and runs the
real sender, ``python -m service.newsletter --send``, in a process of its own. It
prints messages per second (the sender's own figure: locking, planning, rendering,
both journal commits and SMTP, but not the start of Python) and the sender's peak
memory, for N and for N/2, so that memory growth with N shows. The sink's log is
checked: every subscriber got exactly one message.

    python -m bench.newsletter --subscribers 10000 [--profile sender.prof]
"""

import argparse
import collections
import contextlib
import datetime
import json
import os
import pstats
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from service.store import SubscriptionRecord, open_store  # noqa: E402

SITEURL = "https://bench.example"
TARGET_PER_SECOND = 800
ENVIRONMENT = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]))
SENT = re.compile(r"^Sent ([\d,]+) messages in ([\d.]+) s \(([\d,]+)/s\)", re.MULTILINE)
PARAGRAPH = (
    "Een team dat zelf zijn werk plant, merkt sneller waar het knelt. Dat vraagt wel iets "
    "van de leidinggevende: loslaten wat je gewend was te regelen, en vragen stellen waar je "
    "vroeger antwoorden gaf. In de praktijk blijkt dat lastiger dan het klinkt, omdat de "
    "organisatie om je heen nog steeds verwacht dat jij het overzicht hebt. "
)


def bench_article(day: datetime.date, paragraphs: int) -> str:
    """A long article, as an author writes one: headings, paragraphs, a list, a quote."""
    sections = []
    for number in range(1, paragraphs + 1):
        if number % 5 == 1:
            sections.append(f"## Stap {number // 5 + 1}: wat het team zelf kan")
        if number % 7 == 0:
            sections.append("- Wie beslist?\n- Wie moet het weten?\n- Wanneer kijken we terug?")
        if number % 9 == 0:
            sections.append("> Vertrouwen is geen gevoel, het is een afspraak die je nakomt.")
        sections.append((PARAGRAPH * 2).strip())
    return (f"Title: Plannen zonder planner: een lange handleiding\n"
            f"Date: {day.isoformat()} 09:00\n"
            "Author: marloes-verhagen\n"
            "Category: Samenwerken\n"
            "Summary: Een team dat zelf zijn werk plant, merkt sneller waar het knelt.\n\n"
            + "\n\n".join(sections) + "\n")


def settings_file(folder: Path, content: Path, output: Path, database: Path, port: int) -> Path:
    path = folder / "bench_settings.py"
    path.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from publishconf import *  # noqa: F403\n"
        f"PATH = {str(content)!r}\n"
        f"OUTPUT_PATH = {str(output)!r}\n"
        f"SITEURL = FEED_DOMAIN = {SITEURL!r}\n"
        f"SERVICE_DATABASE_URL = {f'sqlite:///{database}'!r}\n"
        f"SERVICE_DATA_PATH = {str(folder / 'data')!r}\n"
        f"SERVICE_SMTP_PORT = {port}\n", encoding="utf-8")
    return path


def publish(folder: Path, paragraphs: int) -> tuple[Path, Path]:
    """The sample site plus the long article, published; returns (content, output)."""
    content = shutil.copytree(ROOT / "content", folder / "content")
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    (content / "articles" / "plannen-zonder-planner.md").write_text(
        bench_article(yesterday, paragraphs), encoding="utf-8")
    output = folder / "output"
    settings = settings_file(folder, content, output, folder / "unused.sqlite3", 25)
    build = subprocess.run([sys.executable, "-m", "pelican", "-s", str(settings), "-o",
                            str(output), "--fatal", "errors", "-q"], cwd=ROOT, env=ENVIRONMENT,
                           capture_output=True, text=True)
    if build.returncode != 0:
        raise SystemExit(f"the publish build failed:\n{build.stdout}{build.stderr}")
    return content, output


def add_subscribers(database: Path, count: int) -> None:
    """``count`` readers who confirmed the day before yesterday: one article is due to them."""
    confirmed = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
    records = [SubscriptionRecord(f"lezer{number:06d}@bench.example", "site", "confirmed",
                                  "c0ffee", "Toestemmingstekst", confirmed, confirmed, None, None,
                                  None, "form", False) for number in range(count)]
    store = open_store(f"sqlite:///{database}")
    try:
        store.import_subscriptions(records, lambda: secrets.token_urlsafe(32), confirmed)
    finally:
        store.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def sink_process(log: Path):
    """The sink in its own process; yields its port and its pid."""
    process = subprocess.Popen([sys.executable, "-m", "service.smtp_sink", "--port", "0",
                                "--log", str(log)], cwd=ROOT, env=ENVIRONMENT,
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"the SMTP sink did not start: {line!r}")
        yield int(line.rsplit(":", 1)[1]), process.pid
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def run_sender(settings: Path, profile: Path | None) -> tuple[str, float, float, float]:
    """Run the sender to the end: its output, wall seconds, peak RSS (MB) and CPU seconds."""
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "service.newsletter", "--settings", str(settings), "--send"]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=ENVIRONMENT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    process.stdout.close()
    # wait4 gives this one child's resource use: its own peak, not the sink's.
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"the sender failed (exit {process.returncode}):\n{output}")
    return output, seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def one_round(folder: Path, content: Path, output: Path, count: int,
              profile: Path | None) -> dict:
    database = folder / f"volg-{count}.sqlite3"
    add_subscribers(database, count)
    log = folder / f"sink-{count}.log"
    with sink_process(log) as (port, sink_pid):
        settings = settings_file(folder, content, output, database, port)
        sink_cpu = cpu_seconds(sink_pid)
        text, wall, peak, sender_cpu = run_sender(settings, profile)
        sink_cpu = cpu_seconds(sink_pid) - sink_cpu
    sent = SENT.search(text)
    if not sent:
        raise SystemExit(f"the sender did not report what it sent:\n{text}")
    messages, seconds = int(sent.group(1).replace(",", "")), float(sent.group(2))
    rate = int(sent.group(3).replace(",", ""))
    copies = collections.Counter(line.split("\t")[0]
                                 for line in log.read_text(encoding="utf-8").splitlines())
    if messages != count or len(copies) != count or set(copies.values()) != {1}:
        raise SystemExit(f"expected one message to each of {count} subscribers; the sink has "
                         f"{sum(copies.values())} for {len(copies)}:\n{text}")
    return {"subscribers": count, "messages": messages, "seconds": seconds, "wall": wall,
            "rate": rate, "peak": peak, "sender_seconds": sender_cpu,
            "sender_cpu": sender_cpu / messages * 1e6, "sink_cpu": sink_cpu / messages * 1e6}


def edition_size(output: Path) -> int:
    manifest = json.loads((output / "nieuwsbrief" / "editions.json").read_text("utf-8"))
    newest = max((edition for edition in manifest["editions"] if edition["kind"] == "article"),
                 key=lambda edition: edition["date"])
    return (output / newest["html"]).stat().st_size


def print_profile(profile: Path) -> None:
    print(f"\nProfile of the sender ({profile}), by own time:")
    pstats.Stats(str(profile)).sort_stats("tottime").print_stats(15)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--paragraphs", type=int, default=24,
                        help="paragraphs of the generated article (24: about 20 KB of HTML)")
    parser.add_argument("--profile", type=Path,
                        help="run the larger round under cProfile and write the profile here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    arguments = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-newsletter-"))
    try:
        content, output = publish(folder, arguments.paragraphs)
        print(f"Edition: {edition_size(output) / 1024:.1f} KB of HTML; SQLite journal in WAL "
              f"mode; sink in its own process; {os.cpu_count()} CPUs")
        rounds = [one_round(folder, content, output, count, None)
                  for count in (arguments.subscribers // 2,)]
        rounds.append(one_round(folder, content, output, arguments.subscribers,
                                arguments.profile))
    finally:
        if arguments.keep:
            print(f"Kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{'subscribers':>11}  {'messages':>8}  {'send s':>6}  {'msg/s':>6}  {'process s':>9}"
          f"  {'peak RSS MB':>11}  {'sender CPU':>10}  {'sink CPU':>8}")
    for result in rounds:
        print(f"{result['subscribers']:>11,}  {result['messages']:>8,}  {result['seconds']:>6.1f}"
              f"  {result['rate']:>6.0f}  {result['wall']:>9.1f}  {result['peak']:>11.1f}"
              f"  {result['sender_cpu']:>7.0f} µs  {result['sink_cpu']:>5.0f} µs")
    print("(CPU: per message, user + system; the sender's includes its start-up. The load "
          f"average at the end was {os.getloadavg()[0]:.1f}.)")
    small, large = rounds
    print(f"Target: at least {TARGET_PER_SECOND} messages/s: "
          f"{'met' if large['rate'] >= TARGET_PER_SECOND else 'NOT met'} "
          f"({large['rate']:.0f}/s at {large['subscribers']:,}). Peak memory from "
          f"{small['subscribers']:,} to {large['subscribers']:,} subscribers: "
          f"{large['peak'] - small['peak']:+.1f} MB.")
    marginal = ((large["sender_seconds"] - small["sender_seconds"])
                / (large["messages"] - small["messages"]) * 1e6)
    print(f"Sender CPU per message without its start-up (from the difference of the two "
          f"rounds): {marginal:.0f} µs; the sink's: {large['sink_cpu']:.0f} µs. One message "
          "waits for the other process twice: the pipelined MAIL, RCPT and DATA, and the "
          "final dot.")
    if arguments.profile is not None:
        print_profile(arguments.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
