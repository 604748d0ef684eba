"""Where imports land: files in ``content/``, a state file, and the report.

Re-running an import must be safe. Every file an importer writes is recorded in
``content/.migrate/state.json`` under its ``(source, source_id)`` key, with the
SHA-256 of what was written. On the next run a file is:

- written when its key is new and its path is free;
- left alone when its key is known and nothing changed in the source;
- rewritten only when the source changed *and* the file is still exactly what the
  importer wrote (the hash matches): an editor's change is never overwritten;
- never recreated after an editor deleted it.

Files are written whole (temporary file, then rename). Each write is then appended
to ``journal.jsonl``, which the state absorbs at the end of the run; rewriting the
whole state after every file would make a large import quadratic. A run that stops
midway therefore leaves every written file recorded, and the next run carries on
where it stopped; a file written just before the journal line is adopted if it is
exactly what the importer would write.
"""

import datetime
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from adviesblog_common.files import write_atomically
from adviesblog_common.headers import format_header
from adviesblog_common.sanitize import SAFE_ID
from site_nl.drafts import dutch_slug

STATE_FOLDER = ".migrate"
STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
STATE_VERSION = 1

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
KEPT_EDITED = "kept: edited since the last import"
KEPT_DELETED = "kept deleted: removed since the last import"
KEPT_FOREIGN = "kept: a file not written by this importer is in the way"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, KEPT_EDITED, KEPT_DELETED, KEPT_FOREIGN)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def safe_id(raw: str) -> str:
    """An id from the old site, fit for a file name and an HTML anchor.

    Ids are numbers in every real export; anything else (``../../x``, quotes) is
    replaced by a stable hash, so an id can never point outside ``content/``.
    """
    if SAFE_ID.fullmatch(raw):
        return raw
    return "h" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


# Old exports write placeholders (year 1, 1970, WordPress's "-0001", 9999) for dates
# they lost; no blog post or comment is older than the first, and the site reads no
# year after the second.
EARLIEST_DATE = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
LATEST_DATE = datetime.datetime(2999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


def plausible(moment: datetime.datetime | None) -> datetime.datetime | None:
    """``moment`` if it can be a real post's or comment's date, else None.

    A moment without a zone is compared as UTC; a zone that pushes it out of
    Python's range makes it implausible too.
    """
    if moment is None:
        return None
    try:
        in_utc = (moment.astimezone(datetime.UTC) if moment.tzinfo
                  else moment.replace(tzinfo=datetime.UTC))
    except (OverflowError, ValueError):
        return None
    return moment if EARLIEST_DATE <= in_utc <= LATEST_DATE else None


def utc_iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Orphan:
    source_id: str
    url: str
    reason: str


@dataclass
class Report:
    """What an import did, counted as it goes; printed and written at the end."""

    source: str
    input_path: str
    dry_run: bool = False
    counts: Counter = field(default_factory=Counter)
    files: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    orphans: list[Orphan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    kept_files: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def error(self, message: str) -> None:
        """Something in the source was not imported; the import's exit status shows it."""
        self.errors.append(message)

    def render(self, listed: int | None = None) -> str:
        """The report; ``listed`` caps the orphans, warnings and kept files shown."""
        mode = " (dry run: nothing was written)" if self.dry_run else ""
        lines = [f"Import from {self.source}: {self.input_path}{mode}", ""]
        lines += [f"  {name}: {number}" for name, number in sorted(self.counts.items())]
        if self.files:
            lines += ["", "Files" + (" that would be written" if self.dry_run else "") + ":"]
            lines += [f"  {outcome}: {self.files[outcome]}" for outcome in OUTCOMES
                      if self.files[outcome]]
        lines += _capped([f"    {path}" for path in self.kept_files], listed)
        removed = sorted((name, number) for name, number in self.removed.items() if number)
        if removed:
            lines += ["", "Removed:"]
            lines += [f"  {name}: {number}" for name, number in removed]
        lines += ["", f"Orphans: {len(self.orphans)}"]
        lines += _capped([f"  {o.source_id}  {o.url or '-'}  ({o.reason})" for o in self.orphans],
                         listed)
        lines += ["", f"Warnings: {len(self.warnings)}"]
        lines += _capped([f"  {warning}" for warning in self.warnings], listed)
        if self.errors:
            lines += ["", f"Errors (not imported): {len(self.errors)}"]
            lines += _capped([f"  {error}" for error in self.errors], listed)
        return "\n".join(lines) + "\n"


def _capped(lines: list[str], limit: int | None) -> list[str]:
    if limit is None or len(lines) <= limit:
        return lines
    return lines[:limit] + [f"  … and {len(lines) - limit} more in the report file"]


class ContentStore:
    """Writes an importer's files under ``content/`` and remembers what it wrote."""

    def __init__(self, content_dir: Path, report: Report):
        self.content_dir = Path(content_dir)
        self.content_root = os.fspath(content_dir)
        self.report = report
        self.dry_run = report.dry_run
        self.state_path = self.content_dir / STATE_FOLDER / STATE_FILE
        self.journal_path = self.content_dir / STATE_FOLDER / JOURNAL_FILE
        self.entries = self._load_state()
        self._journal_needs_newline = False
        self._changed = self._replay_journal()
        self._journal = None
        self._authors_written: set[str] = set()
        self._resolved_folders: dict[str, bool] = {}

    def _load_state(self) -> dict:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as error:
            raise ValueError(f"{self.state_path}: not valid JSON ({error}); restore it from "
                             "version control before importing again") from error
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            version = state.get("version") if isinstance(state, dict) else None
            raise ValueError(f"{self.state_path}: unknown version {version!r}")
        restore = "; restore it from version control before importing again"
        if not isinstance(state.get("entries"), dict):
            raise ValueError(f"{self.state_path}: no 'entries' object{restore}")
        entries = {}
        for key, entry in state["entries"].items():
            if not (isinstance(entry, dict) and _is_entry(entry.get("path"), entry.get("sha256"))):
                raise ValueError(f"{self.state_path}: entry {key!r} is not a path and a "
                                 f"SHA-256{restore}")
            entries[key] = (entry["path"], entry["sha256"])
        return entries

    def _replay_journal(self) -> bool:
        """Take in the writes of a run that stopped before saving the state."""
        try:
            text = self.journal_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        # A run killed while writing a line leaves it cut off; the next run's first
        # line must not be glued to it.
        self._journal_needs_newline = bool(text) and not text.endswith("\n")
        for number, line in enumerate(text.splitlines(), 1):
            try:
                key, path, sha256 = json.loads(line)
                if not (isinstance(key, str) and _is_entry(path, sha256)):
                    raise ValueError(line)
            except (ValueError, TypeError):
                # Later lines are still good. The file this line was about is on disk
                # unrecorded; the importers recognise it there (see SlugAllocator).
                self.report.warn(f"{self.journal_path}, line {number}: damaged (a run was "
                                 "stopped while writing it); skipped")
                continue
            self.entries[key] = (path, sha256)
        return True

    def _record(self, key: str, relative_path: str, sha256: str) -> None:
        self.entries[key] = (relative_path, sha256)
        self._changed = True
        if self.dry_run:
            return
        if self._journal is None:
            self.journal_path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = self.journal_path.open("a", encoding="utf-8")
            if self._journal_needs_newline:
                self._journal.write("\n")
        self._journal.write(json.dumps([key, relative_path, sha256], ensure_ascii=False) + "\n")
        self._journal.flush()

    def _inside_content(self, folder: str) -> bool:
        """Whether ``folder`` really is under content/, symlinks followed.

        A symlinked folder must not lead a write outside. Only the folder counts: a
        write replaces a symlink at the file itself rather than following it. Folders
        repeat (one per article's comments), so each is resolved once a run.
        """
        if folder not in self._resolved_folders:
            self._resolved_folders[folder] = (os.path.realpath(folder) + os.sep).startswith(
                os.path.realpath(self.content_root) + os.sep)
        return self._resolved_folders[folder]

    @staticmethod
    def key(source: str, kind: str, source_id: str) -> str:
        return f"{source}:{kind}:{source_id}"

    def recorded_path(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return entry[0] if entry else None

    def recorded_articles(self, source: str) -> dict[str, str]:
        """``key → path`` of every file but comments this importer wrote from ``source``."""
        return {key: path for key, (path, _) in self.entries.items()
                if key.startswith(f"{source}:") and ":comment:" not in key}

    def put(self, key: str, relative_path: str, text: str) -> str:
        """Write one file, unless that would lose an edit; return the outcome."""
        entry = self.entries.get(key)
        if entry:
            relative_path = entry[0]
        path = os.path.abspath(os.path.join(self.content_root, relative_path))
        if not self._inside_content(os.path.dirname(path)):
            raise ValueError(f"refused to write {relative_path!r}: outside {self.content_root}")
        new_hash = digest(text)
        try:
            with open(path, encoding="utf-8") as handle:
                current_hash = digest(handle.read())
        except FileNotFoundError:
            current_hash = None
        if entry is None:
            if current_hash is None:
                outcome = CREATED
            elif current_hash == new_hash:
                outcome = UNCHANGED  # written by an earlier run that stopped early
            else:
                outcome = KEPT_FOREIGN
        elif current_hash is None:
            outcome = KEPT_DELETED
        elif current_hash != entry[1]:
            outcome = KEPT_EDITED
        elif current_hash == new_hash:
            outcome = UNCHANGED
        else:
            outcome = UPDATED
        self.report.files[outcome] += 1
        if outcome in (KEPT_EDITED, KEPT_FOREIGN):
            self.report.kept_files.append(relative_path)
        if outcome in (CREATED, UPDATED) and not self.dry_run:
            write_atomically(path, text)
        if outcome in (CREATED, UPDATED, UNCHANGED) and (
                entry is None or entry[1] != new_hash):
            self._record(key, relative_path, new_hash)
        return outcome

    def save(self) -> None:
        """Fold the journal into the state file; unchanged state is not rewritten."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self.dry_run or not self._changed:
            return
        write_atomically(self.state_path, self._state_lines())
        self.journal_path.unlink(missing_ok=True)
        self._changed = False

    def put_author(self, key: str, name: str) -> str:
        """Write an author's profile (their name only) once a run; return its slug."""
        slug = dutch_slug(name)
        if slug and slug not in self._authors_written:
            self._authors_written.add(slug)
            self.report.counts["authors"] += 1
            self.put(key, f"authors/{slug}.md", format_header({"Name": name}, ""))
        return slug

    def _state_lines(self) -> Iterator[str]:
        """The state as JSON, one entry a line (readable diffs), generated as written."""
        yield f'{{"version": {STATE_VERSION}, "entries": {{\n'
        last = len(self.entries) - 1
        for number, key in enumerate(sorted(self.entries)):
            path, sha256 = self.entries[key]
            entry = json.dumps({"path": path, "sha256": sha256}, ensure_ascii=False)
            yield f" {json.dumps(key, ensure_ascii=False)}: {entry}{',' if number < last else ''}\n"
        yield "}}\n"

    def write_manifest(self, name: str, header: list[str], rows: list[list[str]],
                       export: str) -> str:
        """A tab-separated list next to the state (remote images, attachments).

        A site can come in several exports, so the list is merged: its last column
        names the export a row came from, and only the rows of ``export`` are
        replaced. Rows are sorted by export and keep their order within one.
        """
        path = self.content_dir / STATE_FOLDER / name
        header = [*header, "export"]
        merged = [[_cell(value) for value in (*row, export)] for row in rows]
        try:
            with path.open(encoding="utf-8") as old:
                next(old, None)
                old_rows = [line.rstrip("\n").split("\t") for line in old]
        except FileNotFoundError:
            old_rows = []
        # Another export's row that is also one of this export's is the same row.
        seen = {tuple(row[:-1]) for row in merged}
        for row in old_rows:
            if len(row) == len(header) - 1:
                row = [*row, ""]  # written before the export column
            if len(row) != len(header) or row[-1] == export or tuple(row[:-1]) in seen:
                continue
            seen.add(tuple(row[:-1]))
            merged.append(row)
        merged.sort(key=lambda row: row[-1])
        text = "\t".join(header) + "\n" + "".join("\t".join(row) + "\n" for row in merged)
        if not self.dry_run:
            try:
                unchanged = path.read_text(encoding="utf-8") == text
            except FileNotFoundError:
                unchanged = False
            if not unchanged:
                write_atomically(path, text)
        return str(path)


def _is_entry(path, sha256) -> bool:
    return isinstance(path, str) and isinstance(sha256, str) and len(sha256) == 64


def _cell(value: str) -> str:
    """A value on one line and in one column, whatever the old site put in it."""
    return " ".join(str(value).replace("\t", " ").splitlines())


def finish(store: ContentStore, report_path: Path | None) -> str:
    """Save the state and write the full report to ``report_path`` (unless dry)."""
    store.save()
    text = store.report.render()
    if report_path and not store.dry_run:
        write_atomically(Path(report_path), text)
    return text
