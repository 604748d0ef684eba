"""``invoke subscribers``: list, count, export, import and erase the follow service's subscribers.

The export is a CSV file with the full consent proof of every subscription, and the
import reads the same format back, so a list moves between databases (SQLite to
PostgreSQL, one server to the next) without losing the proof. Subscribers from an
older tool, who were never asked for consent in this service, come in only when the
operator says so (``--legacy``), and are marked as such for good.

``delete`` erases a person on request (AVG art. 17): subscriber, subscriptions, send
journal and queued mails, and as a commenter who asked for reply notifications, their
reactions awaiting moderation. Only a count of erasures stays.

Everything here speaks to the operator, in English; nothing is shown to readers.
"""

import csv
import datetime
import io
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from email_validator import EmailNotValidError

from adviesblog_common.files import write_atomically

from .mailer import subscriber_address
from .store import (
    CONFIRMED,
    PENDING,
    REPLY_PREFIX,
    UNSUBSCRIBED,
    Store,
    StoreError,
    SubscriptionRecord,
    open_store,
    to_text,
    utcnow,
)

ACTIONS = ("list", "stats", "export", "import", "delete")
# The options each action takes; any other one given is a mistake worth naming.
ACTION_OPTIONS = {
    "list": {"state", "scope"},
    "stats": set(),
    "export": {"out"},
    "import": {"file", "legacy", "dry_run"},
    "delete": {"address", "yes"},
}
STATES = (CONFIRMED, PENDING, UNSUBSCRIBED)
FIELDS = ("email", "scope", "state", "consent_version", "consent_text", "consented_at",
          "confirmed_at", "unsubscribed_at", "ip_hash", "user_agent_hash", "source", "legacy")
CONSENT_FIELDS = ("consent_version", "consent_text", "consented_at")
TIME_FIELDS = ("consented_at", "confirmed_at", "unsubscribed_at")
# A spreadsheet runs a cell that starts with one of these as a formula; an address or a
# consent text can be written by anyone, so the export prefixes such a value with an
# apostrophe (which spreadsheets hide). The apostrophe itself is guarded too, so the
# import can take the prefix off again and a round trip changes nothing.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
GUARDED_STARTS = (*FORMULA_STARTS, GUARD)
# Scopes as the follow forms offer them; slugs as Pelican makes them.
SCOPE_PATTERN = re.compile(r"site|(?:series|category):[a-z0-9][a-z0-9_-]*")
MAX_SCOPE_LENGTH = 100
MAX_CONSENT_VERSION_LENGTH = 64
MAX_CONSENT_TEXT_LENGTH = 20_000
# Hashes and source labels are short machine words; anything else is not ours.
TOKEN_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")
SOURCE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
IMPORT_SOURCE, LEGACY_SOURCE = "import", "import-legacy"
YES, NO = "yes", "no"
BOOLEANS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False, "": False}
DEFAULT_SCOPE, DEFAULT_STATE = "site", CONFIRMED
# The exit codes of run(): done, refused or failed, wrong use.
OK, FAILED, USAGE = 0, 1, 2


class AdminError(Exception):
    """A one-line reason for the operator why the action did not run."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import file, at a line the operator can open."""

    line: int
    field: str
    reason: str

    def render(self, path: str) -> str:
        return f"{path}:{self.line}: {self.field}: {self.reason}"


class ImportRefused(Exception):
    """The import file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


# --- list and stats -------------------------------------------------------------------


def list_subscriptions(store: Store, out: TextIO, state: str = "", scope: str = "") -> int:
    """One line per subscription, optionally only those in ``state`` or ``scope``."""
    if state and state not in STATES:
        raise AdminError(f"--state {state!r}: expected one of {', '.join(STATES)}")
    listed = 0
    for record in store.subscription_records():
        if state and record.state != state or scope and record.scope != scope:
            continue
        if not listed:
            print(_list_line("ADDRESS", "SCOPE", "STATE", "CONFIRMED", "SOURCE"), file=out)
        confirmed = record.confirmed_at.date().isoformat() if record.confirmed_at else "-"
        source = f"{record.source} (legacy)" if record.legacy else record.source
        print(_list_line(record.email, record.scope, record.state, confirmed, source), file=out)
        listed += 1
    filters = " and ".join(f"{name} {value}" for name, value in
                           (("state", state), ("scope", scope)) if value)
    print(f"{listed} subscription(s){' with ' + filters if filters else ''}", file=out)
    return OK


def _list_line(email, scope, state, confirmed, source) -> str:
    return f"{email:<40} {scope:<30} {state:<12} {confirmed:<10} {source}".rstrip()


def _counts(counts: Counter | dict, states: Iterable[str]) -> str:
    shown = [f"{counts[state]} {state}" for state in states if counts.get(state)]
    return ", ".join(shown) or "none"


def show_stats(store: Store, out: TextIO) -> int:
    stats = store.stats()
    by_scope = store.subscription_counts_by_scope()
    subscriptions = {state: stats[f"subscriptions_{state}"] for state in STATES}
    deliveries = {key.removeprefix("deliveries_"): value for key, value in stats.items()
                  if key.startswith("deliveries_")}
    lines = [
        f"Subscribers:       {stats['subscribers']} "
        f"({stats['subscribers_confirmed']} with a confirmed subscription)",
        f"Subscriptions:     {_counts(subscriptions, STATES)}",
        *(f"  {scope}: {_counts(counts, STATES)}" for scope, counts in sorted(by_scope.items())),
        f"Deliveries:        {_counts(deliveries, sorted(deliveries))}",
        f"Outbox:            {stats['outbox']} mail(s) waiting",
        f"Erased on request: {stats['erased']} person(s) (only this count is kept)",
    ]
    print("\n".join(lines), file=out)
    return OK


# --- export ---------------------------------------------------------------------------


def guard(value: str) -> str:
    """The value as a spreadsheet shows it but never runs it."""
    return GUARD + value if value.startswith(GUARDED_STARTS) else value


def unguard(value: str) -> str:
    """Undo ``guard``: the export's apostrophe before a guarded character goes."""
    if value.startswith(GUARD) and value[1:].startswith(GUARDED_STARTS):
        return value[1:]
    return value


def export_row(record: SubscriptionRecord) -> list[str]:
    values = {
        "email": record.email, "scope": record.scope, "state": record.state,
        "consent_version": record.consent_version, "consent_text": record.consent_text,
        "consented_at": record.consented_at, "confirmed_at": record.confirmed_at,
        "unsubscribed_at": record.unsubscribed_at, "ip_hash": record.ip_hash,
        "user_agent_hash": record.user_agent_hash, "source": record.source,
        "legacy": YES if record.legacy else NO,
    }
    cells = []
    for field in FIELDS:
        value = values[field]
        if isinstance(value, datetime.datetime):
            value = to_text(value)
        cells.append(guard(value or ""))
    return cells


def csv_chunks(records: Iterable[SubscriptionRecord]) -> Iterator[str]:
    """The export as text chunks, a row at a time, header first (RFC 4180 line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow(export_row(record))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


class _Counted:
    """Passes records through and counts them, for the closing line of the export."""

    def __init__(self, records: Iterable[SubscriptionRecord]):
        self.records, self.count = records, 0

    def __iter__(self) -> Iterator[SubscriptionRecord]:
        for record in self.records:
            self.count += 1
            yield record


def export(store: Store, out: TextIO, path: str = "", published: Path | None = None) -> int:
    """The CSV with every subscription's consent proof: to ``path`` or to ``out``."""
    # Reply notifications belong to their reactions, which the export does not carry:
    # imported alone they would notify of nothing.
    records = _Counted(record for record in store.subscription_records()
                       if not record.scope.startswith(REPLY_PREFIX))
    if not path:
        for chunk in csv_chunks(records):
            out.write(chunk)
        return OK
    target = Path(path)
    if published is not None and target.resolve().is_relative_to(published.resolve()):
        raise AdminError(f"--out {path}: inside {published}, which is published with the site; "
                         "choose a path outside it")
    write_atomically(target, csv_chunks(records))
    # Owner only, as the data folder: the file is a copy of the subscriber list.
    os.chmod(target, 0o600)
    print(f"Wrote {records.count} subscription(s) to {target}.\n"
          "Warning: this file holds personal data (addresses and consent proof). Keep it "
          "where only you can read it, and delete it when you no longer need it.", file=out)
    return OK


# --- import ---------------------------------------------------------------------------


def read_import(lines: Iterable[str], legacy: bool, now: datetime.datetime
                ) -> list[SubscriptionRecord]:
    """Every row of an import file as a record, or ImportRefused listing every bad line.

    ``lines`` is the open file (``newline=""``). Columns are those of the export, by
    header name; only ``email`` is required, so a plain list from an older tool works.
    """
    reader = csv.reader(lines)
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRefused([Problem(1, "header", "the file is empty; expected a header "
                                                      "row such as 'email,scope'")])
        columns = _columns(header, problems)
        if problems:
            # Without known columns no row can be read; the header is the one thing to fix.
            raise ImportRefused(problems)
        records = []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                record = _record(row, columns, line, legacy, now, problems)
                if record is not None:
                    records.append(record)
            line = reader.line_num + 1
    except UnicodeDecodeError:
        problems.append(Problem(reader.line_num + 1, "file",
                                "not UTF-8 text; save it as 'CSV UTF-8'"))
    except csv.Error as error:
        problems.append(Problem(reader.line_num, "file", f"not readable as CSV: {error}"))
    if problems:
        raise ImportRefused(problems)
    return records


def _columns(header: list[str], problems: list[Problem]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    if columns and "@" in columns[0]:
        problems.append(Problem(1, "header", "the first line must name the columns, such as "
                                             "'email,scope'; it holds an address"))
        return columns
    for name in columns:
        if name not in FIELDS:
            shown = name if name.isprintable() and name else repr(name)
            problems.append(Problem(1, shown, "unknown column; expected some of: "
                                              + ", ".join(FIELDS)))
    for name, count in Counter(columns).items():
        if count > 1:
            problems.append(Problem(1, name, "column appears more than once"))
    if "email" not in columns:
        problems.append(Problem(1, "email", "missing column; every row needs an address"))
    return columns


def _record(row, columns, line, legacy, now, problems) -> SubscriptionRecord | None:
    """One row as a record; its problems (every one of them) go to ``problems``."""
    found = len(problems)

    def problem(field, reason):
        problems.append(Problem(line, field, reason))

    if len(row) != len(columns):
        problem("row", f"{len(row)} field(s), the header names {len(columns)}")
        return None
    values = {}
    for name, cell in zip(columns, row, strict=True):
        cell = unguard(cell)
        if "\x00" in cell:
            problem(name, "contains a NUL character")
        values[name] = cell if name == "consent_text" else cell.strip()

    email = values["email"]
    try:
        # As the web app takes it, so that an imported address is one the sender can mail.
        email = subscriber_address(email)
    except EmailNotValidError as error:
        problem("email", f"{email!r}: {error}" if email else "empty")
    except ValueError as error:
        problem("email", str(error).removeprefix("address: "))
    scope = values.get("scope", DEFAULT_SCOPE)
    if not (SCOPE_PATTERN.fullmatch(scope) and len(scope) <= MAX_SCOPE_LENGTH):
        problem("scope", f"{scope!r}: expected site, series:<slug> or category:<slug>")
    state = values.get("state", DEFAULT_STATE)
    if state not in STATES:
        problem("state", f"{state!r}: expected one of {', '.join(STATES)}")
    times = {}
    for name in TIME_FIELDS:
        times[name] = _moment(values.get(name, ""), lambda reason, name=name: problem(name, reason))
    version = values.get("consent_version") or None
    if version and (len(version) > MAX_CONSENT_VERSION_LENGTH or not version.isprintable()):
        problem("consent_version", f"longer than {MAX_CONSENT_VERSION_LENGTH} characters or "
                                   "not printable")
    text = values.get("consent_text") or None
    if text and len(text) > MAX_CONSENT_TEXT_LENGTH:
        problem("consent_text", f"longer than {MAX_CONSENT_TEXT_LENGTH} characters")
    hashes = {}
    for name in ("ip_hash", "user_agent_hash"):
        hashes[name] = values.get(name) or None
        if hashes[name] and not TOKEN_PATTERN.fullmatch(hashes[name]):
            problem(name, "expected a hash: up to 200 visible ASCII characters")
    source = values.get("source") or IMPORT_SOURCE
    if not SOURCE_PATTERN.fullmatch(source):
        problem("source", f"{source!r}: expected a short label such as 'form' or 'import'")
    marked_legacy = values.get("legacy", "").lower()
    if marked_legacy not in BOOLEANS:
        problem("legacy", f"{values['legacy']!r}: expected yes or no")

    # Empty, not wrong: a wrong value has its own problem already.
    missing = [name for name in CONSENT_FIELDS if not values.get(name, "").strip()]
    is_legacy = BOOLEANS.get(marked_legacy, False)
    if missing and not legacy:
        problem(", ".join(missing), "no consent proof; refused. Subscribers from before this "
                                    "service can be imported with --legacy, and are marked so")
        return None
    if missing:
        is_legacy, source = True, LEGACY_SOURCE
    # A subscription's state needs its date; an old tool's list has none, and then the
    # import is the first moment this service knows of it (the sender counts from there).
    for dated_state, name in ((CONFIRMED, "confirmed_at"), (UNSUBSCRIBED, "unsubscribed_at")):
        if state != dated_state or times[name] is not None:
            continue
        if is_legacy:
            times[name] = now
        else:
            problem(name, f"empty, but the state is {state}")
    if len(problems) > found:
        return None
    return SubscriptionRecord(
        email=email, scope=scope, state=state, consent_version=version, consent_text=text,
        consented_at=times["consented_at"], confirmed_at=times["confirmed_at"],
        unsubscribed_at=times["unsubscribed_at"], ip_hash=hashes["ip_hash"],
        user_agent_hash=hashes["user_agent_hash"], source=source, legacy=is_legacy)


def _moment(value: str, problem: Callable[[str], None]) -> datetime.datetime | None:
    """An ISO 8601 date or time; one without a zone is taken as UTC."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        problem(f"{value!r}: expected an ISO date or time, such as 2024-03-01T09:30:00Z")
        return None
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment


def import_file(store: Store, out: TextIO, path: str, legacy: bool = False,
                dry_run: bool = False, now: datetime.datetime | None = None) -> int:
    """Check every row, then add them all in one transaction (or, on a problem, none)."""
    now = now or utcnow()
    try:
        with open(path, encoding="utf-8-sig", newline="") as lines:
            records = read_import(lines, legacy, now)
    except FileNotFoundError as error:
        raise AdminError(f"{path}: no such file") from error
    except OSError as error:
        raise AdminError(f"{path}: {error.strerror or error}") from error
    added = store.import_subscriptions(records, new_unsubscribe_token, now, dry_run=dry_run)
    legacy_count = sum(record.source == LEGACY_SOURCE for record in records)
    verb = "Would import" if dry_run else "Imported"
    print(f"{verb} {added} subscription(s) from {path}; {len(records) - added} already present "
          "(skipped).", file=out)
    if legacy_count:
        print(f"{legacy_count} row(s) without consent proof are marked legacy "
              f"(source {LEGACY_SOURCE!r}).", file=out)
    pending = sum(record.state == PENDING for record in records)
    if pending:
        # The confirmation link of a pending sign-up stays with the old database.
        print(f"{pending} row(s) are pending: they have no confirmation link here and get "
              "nothing until they sign up again.", file=out)
    if dry_run:
        print("Dry run: nothing was written.", file=out)
    return OK


def new_unsubscribe_token() -> str:
    return secrets.token_urlsafe(32)


# --- delete ---------------------------------------------------------------------------


def delete(store: Store, out: TextIO, address: str, yes: bool = False,
           ask: Callable[[str], str] = input) -> int:
    """Erase everything held about a person, after the operator confirms."""
    address = address.strip()
    if not address:
        raise AdminError("delete needs the address: --address ADDRESS")
    # The form keeps the address as typed, and people write to us in another case:
    # every mailbox provider treats case alike, so every case variant is the person.
    matches = {email: store.personal_data(email) for email in store.matching_addresses(address)}
    if not matches:
        # Erasure is about the state, not the act: nothing held is what was asked for,
        # so a repeated or mistaken request is not an error (and scripts can repeat it).
        print(f"No data held for {address}: nothing to erase.", file=out)
        return OK
    for email, held in matches.items():
        print(f"{email}: {_held(held)}", file=out)
    if not yes:
        try:
            answer = ask("Erase this completely? This cannot be undone. Type 'yes' to go on: ")
        except EOFError:
            print(file=out)
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing erased (use --yes to erase without being asked).", file=out)
            return FAILED
    published = [reaction for email in matches for reaction in store.published_reactions_of(email)]
    for email in matches:
        store.erase(email)
    print(f"Erased {', '.join(matches)}. Erasures so far: {store.stats()['erased']}.", file=out)
    if published:
        # The files are the site's public record, in git: removing them is an editor's step.
        print("Their published reactions are still on the site, without the address; if the "
              "request covers them, delete these files and rebuild:", file=out)
        for reaction in published:
            print(f"  {reaction.file}", file=out)
    return OK


def _held(held: dict[str, int]) -> str:
    names = {"subscriber": "subscriber", "subscriptions": "subscription(s)",
             "deliveries": "journal row(s)", "delivered_articles": "delivered article(s)",
             "outbox": "queued mail(s)", "reactions": "reaction(s)"}
    return ", ".join(f"{held[key]} {name}" for key, name in names.items())


# --- the entry point ------------------------------------------------------------------


def run(action: str, settings_file: str | os.PathLike = "publishconf.py", *,
        state: str = "", scope: str = "", out: str = "", file: str = "", legacy: bool = False,
        dry_run: bool = False, address: str = "", yes: bool = False,
        ask: Callable[[str], str] = input) -> int:
    """Run one ``invoke subscribers`` action; return the exit code (0 is done)."""
    given = {name for name, value in (("state", state), ("scope", scope), ("out", out),
                                      ("file", file), ("legacy", legacy), ("dry_run", dry_run),
                                      ("address", address), ("yes", yes)) if value}
    if action not in ACTIONS:
        print(f"subscribers: unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
              file=sys.stderr)
        return USAGE
    wrong = sorted(given - ACTION_OPTIONS[action])
    if wrong:
        options = ", ".join("--" + name.replace("_", "-") for name in wrong)
        print(f"subscribers {action}: {options} does not apply here", file=sys.stderr)
        return USAGE
    if action == "import" and not file:
        print("subscribers import: which file? --file FILE", file=sys.stderr)
        return USAGE
    store = None
    try:
        config = load_config(settings_file)
        store = open_store(config.database_url, create=False)
        if action == "list":
            return list_subscriptions(store, sys.stdout, state=state, scope=scope)
        if action == "stats":
            return show_stats(store, sys.stdout)
        if action == "export":
            return export(store, sys.stdout, out, published=config.output_path)
        if action == "import":
            return import_file(store, sys.stdout, file, legacy=legacy, dry_run=dry_run)
        return delete(store, sys.stdout, address, yes=yes, ask=ask)
    except ImportRefused as refused:
        for problem in refused.problems:
            print(problem.render(file), file=sys.stderr)
        print(f"Nothing imported: {len(refused.problems)} problem(s) in {file}.",
              file=sys.stderr)
        return FAILED
    except (AdminError, StoreError) as error:
        print(f"subscribers {action}: {error}", file=sys.stderr)
        return FAILED
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"subscribers {action}: {where}{error.strerror or error}", file=sys.stderr)
        return FAILED
    finally:
        if store is not None:
            store.close()


def load_config(settings_file):
    from .config import ConfigError, load

    if not Path(settings_file).is_file():
        raise AdminError(f"{settings_file}: no such settings file")
    try:
        return load(settings_file)
    except ConfigError as error:
        raise AdminError(f"{settings_file}: {error}") from error
