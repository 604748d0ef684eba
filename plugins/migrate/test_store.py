"""Re-running an import: nothing lost, nothing overwritten, a crash resumed, a dry run."""

import json
import shutil

import pytest

from migrate import import_wordpress, store
from migrate.store import KEPT_DELETED, KEPT_EDITED, KEPT_FOREIGN
from tests.support import comment_files, snapshot, write_file

EXPORT = "wxr_comment_rules.xml"


@pytest.fixture
def export(tmp_path, data):
    """A private copy of the export, for tests that change what the old site says."""
    return shutil.copy(data(EXPORT), tmp_path / EXPORT)


def edit_export(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_changed_source_updates_a_file_nobody_edited(tmp_path, export):
    content = tmp_path / "content"
    import_wordpress(export, content)
    edit_export(export, "<wp:comment_approved><![CDATA[0]]>", "<wp:comment_approved><![CDATA[1]]>")
    report, _ = import_wordpress(export, content)
    assert comment_files(content)["wxr-102"]["status"] == "approved"
    assert report.files["updated"] == 1


def test_an_edited_file_is_never_overwritten(tmp_path, export):
    content = tmp_path / "content"
    import_wordpress(export, content)
    edited = content / "comments" / "feedback-geven" / "wxr-104.md"
    edited.write_text(edited.read_text().replace("Een antwoord", "Een bewerkt antwoord"))
    edit_export(export, "Een antwoord op Anja", "Een gewijzigd antwoord op Anja")
    report, text = import_wordpress(export, content)
    assert "Een bewerkt antwoord" in edited.read_text()
    assert report.files[KEPT_EDITED] == 1
    assert "comments/feedback-geven/wxr-104.md" in text


def test_a_deleted_file_is_not_brought_back(tmp_path, export):
    content = tmp_path / "content"
    import_wordpress(export, content)
    (content / "comments" / "feedback-geven" / "wxr-110.md").unlink()
    report, _ = import_wordpress(export, content)
    assert "wxr-110" not in comment_files(content)
    assert report.files[KEPT_DELETED] == 1


def test_a_file_the_importer_did_not_write_is_left_alone(tmp_path, export):
    content = tmp_path / "content"
    mine = write_file(content / "comments" / "feedback-geven" / "wxr-101.md",
                      "id: wxr-101\nauthor: Handwerk\ndate: 2016-03-14T19:15:00Z\n\nMijn eigen tekst.\n")
    report, _ = import_wordpress(export, content)
    assert "Mijn eigen tekst." in mine.read_text()
    assert report.files[KEPT_FOREIGN] == 1


def test_an_article_slug_taken_by_another_file_gets_the_post_id(tmp_path, export):
    content = tmp_path / "content"
    taken = write_file(content / "articles" / "2020" / "feedback-geven.md",
                       "Title: Een ander stuk\nDate: 2020-01-01\n\nTekst.\n")
    import_wordpress(export, content)
    assert (content / "articles" / "2016" / "feedback-geven-41.md").exists()
    assert (content / "comments" / "feedback-geven-41").is_dir()
    assert taken.read_text().startswith("Title: Een ander stuk")


def test_a_run_that_stops_midway_is_resumed(tmp_path, export, monkeypatch):
    clean = tmp_path / "clean"
    import_wordpress(export, clean)
    content = tmp_path / "content"
    real_write = store.write_atomically
    writes = []

    def write_then_crash(path, text):
        if len(writes) == 4:
            raise KeyboardInterrupt  # the editor's Ctrl-C, or a killed process
        writes.append(path)
        real_write(path, text)

    monkeypatch.setattr(store, "write_atomically", write_then_crash)
    with pytest.raises(KeyboardInterrupt):
        import_wordpress(export, content)
    monkeypatch.undo()
    assert len(writes) == 4 and not (content / ".migrate" / "state.json").exists()
    assert len((content / ".migrate" / "journal.jsonl").read_text().splitlines()) == 4
    report, _ = import_wordpress(export, content)
    assert dict(report.files) == {"unchanged": 4, "created": 6}, writes
    assert snapshot(content) == snapshot(clean)


def test_a_dry_run_writes_nothing_and_reports_the_same(tmp_path, export):
    dry, dry_text = import_wordpress(export, tmp_path / "dry", dry_run=True,
                                     report_path=tmp_path / "dry-report.txt")
    real, real_text = import_wordpress(export, tmp_path / "real")
    assert not (tmp_path / "dry").exists() and not (tmp_path / "dry-report.txt").exists()
    assert dry.counts == real.counts and dry.files == real.files
    assert dry_text.replace(" (dry run: nothing was written)", "").replace(
        "Files that would be written", "Files") == real_text


def run_killed_before(export, content, monkeypatch, writes_allowed):
    """Import, and die as a killed process does before the file after ``writes_allowed``."""
    real_write = store.write_atomically
    written = []

    def write_or_die(path, text):
        if len(written) == writes_allowed(written):
            raise KeyboardInterrupt
        written.append(str(path))
        real_write(path, text)

    monkeypatch.setattr(store, "write_atomically", write_or_die)
    with pytest.raises(KeyboardInterrupt):
        import_wordpress(export, content)
    monkeypatch.undo()


def after_the_article(written):
    """Writes allowed: up to and with the first article (its journal line is last)."""
    articles = [n for n, path in enumerate(written, 1) if "/articles/" in path]
    return articles[0] if articles else -1


def cut_last_line(journal):
    """The journal as a process killed while writing its last line leaves it."""
    text = journal.read_text(encoding="utf-8")
    journal.write_text(text[:len(text) - len(text.splitlines()[-1]) // 2 - 1], encoding="utf-8")
    return text.splitlines()[-1]


def test_a_journal_cut_off_mid_line_neither_stops_replay_nor_duplicates(
        tmp_path, export, monkeypatch):
    clean = tmp_path / "clean"
    import_wordpress(export, clean)
    content = tmp_path / "content"
    journal = content / ".migrate" / "journal.jsonl"
    # Killed while recording the article: it is on disk, its journal line is cut off.
    run_killed_before(export, content, monkeypatch, after_the_article)
    assert "articles/2016/feedback-geven.md" in cut_last_line(journal)
    # Killed again, two files later: its lines follow the damaged one.
    run_killed_before(export, content, monkeypatch, lambda written: 2)
    report, _ = import_wordpress(export, content)
    assert [w for w in report.warnings if "journal.jsonl, line" in w]
    assert snapshot(content) == snapshot(clean)  # no feedback-geven-41, nothing lost
    again, _ = import_wordpress(export, content)
    assert set(again.files) == {"unchanged"}
    assert snapshot(content) == snapshot(clean)


def test_a_run_after_a_cut_off_journal_starts_its_lines_on_a_fresh_line(
        tmp_path, export, monkeypatch):
    content = tmp_path / "content"
    journal = content / ".migrate" / "journal.jsonl"
    run_killed_before(export, content, monkeypatch, after_the_article)
    cut_last_line(journal)
    damaged = journal.read_text(encoding="utf-8")
    run_killed_before(export, content, monkeypatch, lambda written: 2)
    text = journal.read_text(encoding="utf-8")
    assert text.startswith(damaged + "\n")  # not glued to the next run's first line
    assert [json.loads(line) for line in text[len(damaged) + 1:].splitlines()]


@pytest.mark.parametrize("state", [
    "[]", '{"version": 1, "entries": []}', '{"version": 1}',
    '{"version": 1, "entries": {"wxr:x": {"path": null, "sha256": "0"}}}',
])
def test_a_state_file_of_the_wrong_shape_is_a_clear_error(tmp_path, export, state):
    write_file(tmp_path / "content" / ".migrate" / "state.json", state)
    with pytest.raises(ValueError, match=r"state\.json: .*(version|entries|entry)"):
        import_wordpress(export, tmp_path / "content")


def test_journal_lines_of_the_wrong_shape_are_skipped_with_a_warning(tmp_path, export):
    content = tmp_path / "content"
    import_wordpress(export, content)
    before = snapshot(content)
    write_file(content / ".migrate" / "journal.jsonl", '123\n[[1], [2], [3]]\n["k", null, "x"]\n')
    report, _ = import_wordpress(export, content)
    assert len([w for w in report.warnings if "journal.jsonl, line" in w]) == 3
    assert snapshot(content) == before
