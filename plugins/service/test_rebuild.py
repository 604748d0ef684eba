"""make serve's builder: after each kind of save, the site equals a full build from scratch.

One builder lives through the whole module, as it does through an editing session:
each test saves one more change on top of the earlier ones, lets the builder catch
up, and compares its output with a full build of the same content into an empty
folder. The saved article's own page is checked right after the quick first step.
"""

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from service.rebuild import LIVE_RELOAD_SCRIPT, Builder
from tests.support import (
    ROOT,
    assert_same_site,
    build_site,
    child_processes,
    copy_content,
    process_exists,
    write_file,
)

ARTICLES = "articles/2023"
SERIES_PART = f"{ARTICLES}/je-collega-als-klant.md"
OTHER_PART = f"{ARTICLES}/vragen-stellen-in-plaats-van-vertellen.md"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    content = copy_content(folder / "content")
    builder = Builder(str(ROOT / "pelicanconf.py"), folder / "output",
                      marker=folder / "marker", content=content)
    assert builder.build()
    return builder, content, folder


def edit(content: Path, relative: str, change) -> str:
    path = content / relative
    write_file(path, change(path.read_text(encoding="utf-8")))
    return str(path)


def set_field(name: str, value: str | None):
    """A change that sets (or, with None, removes) one metadata field."""
    def change(text: str) -> str:
        pattern = re.compile(rf"^{name}:.*\n", re.M)
        if value is None:
            return pattern.sub("", text, count=1)
        if pattern.search(text):
            return pattern.sub(f"{name}: {value}\n", text, count=1)
        return f"{name}: {value}\n{text}"
    return change


def catch_up_and_compare(session, saved: str, tmp_path) -> None:
    builder, content, folder = session
    builder.changed({saved})
    scratch = build_site("pelicanconf.py", tmp_path / "scratch", PATH=str(content),
                         DEV_LIVE_RELOAD_SCRIPT=LIVE_RELOAD_SCRIPT)
    assert not scratch.messages(), scratch.messages()
    assert_same_site(tmp_path / "scratch", folder / "output")


def test_body_edit_shows_at_once_then_the_site_matches_a_full_build(session, tmp_path):
    builder, content, folder = session
    saved = edit(content, SERIES_PART, lambda text: text + "\nEen alinea over koffie op de gang.\n")
    page = builder.preview(saved)
    assert page == "2023/je-collega-als-klant/index.html"
    assert "koffie op de gang" in (folder / "output" / page).read_text(encoding="utf-8")
    assert (folder / "marker").read_text().startswith("page ")
    catch_up_and_compare(session, saved, tmp_path)
    assert (folder / "marker").read_text().startswith("site ")


def test_title_edit_moves_the_page_and_updates_every_list(session, tmp_path):
    builder, content, folder = session
    saved = edit(content, OTHER_PART, set_field("Title", "Vragen stellen werkt beter"))
    page = builder.preview(saved)
    assert page == "2023/vragen-stellen-werkt-beter/index.html"
    catch_up_and_compare(session, saved, tmp_path)
    output = folder / "output"
    assert not (output / "2023" / "vragen-stellen-in-plaats-van-vertellen").exists()
    assert "Vragen stellen werkt beter" in (output / "archief" / "index.html").read_text(
        encoding="utf-8")


def test_date_edit(session, tmp_path):
    _, content, _ = session
    saved = edit(content, SERIES_PART, set_field("Date", "2022-03-01 09:00"))
    catch_up_and_compare(session, saved, tmp_path)


def test_tag_edit(session, tmp_path):
    _, content, folder = session
    saved = edit(content, SERIES_PART, set_field("Tags", "samenwerken, koffie"))
    catch_up_and_compare(session, saved, tmp_path)
    assert (folder / "output" / "tag" / "koffie" / "index.html").is_file()


def test_series_edit(session, tmp_path):
    _, content, _ = session
    saved = edit(content, OTHER_PART, set_field("Series_index", "5"))
    catch_up_and_compare(session, saved, tmp_path)


def test_status_edit_to_draft(session, tmp_path):
    _, content, folder = session
    # No other article links to this one: a link to a draft is a content error.
    saved = edit(content, "articles/2025/samen-beslissen-zonder-eindeloos-overleg.md",
                 set_field("Status", "draft"))
    catch_up_and_compare(session, saved, tmp_path)
    assert not (folder / "output" / "2025" / "samen-beslissen-zonder-eindeloos-overleg").exists()
    assert (folder / "output" / "drafts" / "samen-beslissen-zonder-eindeloos-overleg").is_dir()


def test_new_article(session, tmp_path):
    builder, content, folder = session
    saved = str(write_file(content / "articles" / "2025" / "koffie-als-overleg.md",
                           "Title: Koffie als overleg\nDate: 2025-05-05 09:00\n"
                           "Author: marloes-verhagen\nCategory: Samenwerken\nTags: overleg\n\n"
                           "Het beste overleg van de week vindt plaats bij het koffieapparaat.\n"))
    assert builder.preview(saved) == "2025/koffie-als-overleg/index.html"
    catch_up_and_compare(session, saved, tmp_path)


def test_only_articles_are_previewed(session):
    builder, content, _ = session
    for path in (content / "authors" / "marloes-verhagen.md", content / "pages" / "contact.md",
                 ROOT / "pelicanconf.py"):
        assert path.is_file()
        assert builder.preview(str(path)) is None


def test_deleted_article(session, tmp_path):
    builder, content, folder = session
    removed = content / "articles" / "2025" / "koffie-als-overleg.md"
    removed.unlink()
    assert builder.preview(str(removed)) is None
    catch_up_and_compare(session, str(removed), tmp_path)
    assert not (folder / "output" / "2025" / "koffie-als-overleg").exists()


def test_a_content_error_names_the_file_and_keeps_the_last_good_site(session, tmp_path, capsys):
    builder, content, folder = session
    saved = edit(content, OTHER_PART, set_field("Date", "morgen"))
    before = (folder / "output" / "index.html").read_bytes()
    # No preview of a file with an error; the full build names it.
    assert builder.preview(saved) is None
    builder.changed({saved})
    printed = capsys.readouterr().out
    assert "error" in printed and "the messages above name the file" in printed
    # An error still publishes the rest (as `make build` does); the broken article is
    # left out, and the next good save brings it back.
    assert (folder / "output" / "index.html").read_bytes() != before
    fixed = edit(content, OTHER_PART, set_field("Date", "2023-10-24 09:00"))
    catch_up_and_compare(session, fixed, tmp_path)


@pytest.mark.parametrize("broken", ["{% if %}", "{{ no_such_thing.attribute }}"],
                         ids=["syntax", "runtime"])
def test_a_template_error_says_which_template_and_keeps_the_site(session, tmp_path, capsys,
                                                                 broken):
    builder, _, folder = session
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    base = theme / "templates" / "base.html"
    write_file(base, base.read_text(encoding="utf-8").replace(
        "{% block footer %}", broken + "{% block footer %}", 1))
    line = 1 + base.read_text(encoding="utf-8").split(broken)[0].count("\n")
    before = (folder / "output" / "index.html").read_bytes()
    builder.settings["THEME"] = str(theme)
    try:
        assert not builder.build()
    finally:
        builder.settings["THEME"] = str(ROOT / "theme")
    printed = capsys.readouterr().out
    assert "The build failed: " in printed
    assert f"templates/base.html, line {line}: " in printed, printed
    assert (folder / "output" / "index.html").read_bytes() == before
    assert not (folder / "output.next").exists()
    # The failed build's Pagefind is stopped and reaped, not left as a zombie.
    assert child_processes(os.getpid()) == []


def test_a_broken_settings_file_waits_for_the_fix(tmp_path, capsys):
    settings = write_file(tmp_path / "instellingen.py",
                          f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                          "from pelicanconf import *\n")
    content = copy_content(tmp_path / "content")
    builder = Builder(str(settings), tmp_path / "output", content=content)
    assert builder.build()
    write_file(settings, settings.read_text(encoding="utf-8") + "SITENAME = (\n")
    builder.changed({str(settings)})
    printed = capsys.readouterr().out
    assert "instellingen.py, line 4: SyntaxError" in printed
    assert "Nothing is built until the settings file is fixed" in printed
    # An article saved meanwhile waits too; the fix builds everything.
    builder.changed({str(content / SERIES_PART)})
    assert "Built the site" not in capsys.readouterr().out
    write_file(settings, settings.read_text(encoding="utf-8").replace(
        "SITENAME = (\n", "SITENAME = 'Koffie & Co'\n"))
    builder.changed({str(settings)})
    assert "Built the site in" in capsys.readouterr().out
    assert "Koffie &amp; Co" in (tmp_path / "output" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("save_as", ["../../ontsnapt.html", "{root}/ontsnapt.html"])
def test_a_preview_never_writes_outside_the_output(tmp_path, save_as):
    # A site may allow the Save_as field (CONTENT_CHECKS_EXTRA_FIELDS); the full build
    # refuses a page outside the output, and so does the preview.
    settings = write_file(tmp_path / "instellingen.py",
                          f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                          "from pelicanconf import *\n"
                          "CONTENT_CHECKS_EXTRA_FIELDS = ['save_as']\n")
    content = copy_content(tmp_path / "content")
    builder = Builder(str(settings), tmp_path / "site" / "output", content=content)
    assert builder.build()
    saved = edit(content, SERIES_PART,
                 set_field("Save_as", save_as.format(root=tmp_path)))
    with pytest.raises(RuntimeError, match="break out of output directory"):
        builder.preview(saved)
    builder.changed({saved})
    assert not (tmp_path / "ontsnapt.html").exists()
    assert not list(tmp_path.rglob("ontsnapt.html"))


def test_new_markdown_settings_convert_every_file_again(tmp_path):
    settings = write_file(tmp_path / "instellingen.py",
                          f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                          "from pelicanconf import *\n")
    content = copy_content(tmp_path / "content")
    builder = Builder(str(settings), tmp_path / "output", content=content)
    assert builder.build()
    write_file(settings, settings.read_text(encoding="utf-8") + (
        "MARKDOWN = {**MARKDOWN, 'extension_configs': {**MARKDOWN['extension_configs'],\n"
        "    'markdown.extensions.toc': {'permalink': True}}}\n"))
    builder.changed({str(settings)})
    scratch = build_site(str(settings), tmp_path / "scratch", PATH=str(content),
                         DEV_LIVE_RELOAD_SCRIPT=LIVE_RELOAD_SCRIPT)
    assert 'class="headerlink"' in (tmp_path / "scratch" / "2023" / "je-collega-als-klant"
                                    / "index.html").read_text(encoding="utf-8")
    assert not scratch.messages(), scratch.messages()
    assert_same_site(tmp_path / "scratch", tmp_path / "output")


class RunningBuilder:
    """``python -m service.rebuild`` as make serve starts it, its terminal read line by line."""

    def __init__(self, settings: Path, content: Path, output: Path, marker: Path):
        environment = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"), COLUMNS="200")
        environment.pop("ADVIESBLOG_SERIAL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.rebuild", "--settings", str(settings),
             "--output", str(output), "--marker", str(marker), "--content", str(content)],
            cwd=ROOT, env=environment, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        self.lines = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if text in line:
                return line
        raise AssertionError(f"the builder never said {text!r}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def test_the_running_builder_follows_saves_and_a_renamed_settings_file(tmp_path):
    content = copy_content(tmp_path / "content")
    settings = write_file(tmp_path / "instellingen.py",
                          f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                          "from pelicanconf import *\n")
    output, marker = tmp_path / "output", tmp_path / "marker"
    builder = RunningBuilder(settings, content, output, marker)
    try:
        builder.wait_for("Built the site in")
        assert marker.read_text().startswith("site ")
        edit(content, SERIES_PART, lambda text: text + "\nEen alinea over de lift.\n")
        builder.wait_for("Updated 2023/je-collega-als-klant/index.html in")
        builder.wait_for("Built the site in")
        page = output / "2023" / "je-collega-als-klant" / "index.html"
        assert "over de lift" in page.read_text(encoding="utf-8")
        # Saved by renaming, as many editors and `git checkout` do; then saved again.
        replacement = write_file(tmp_path / "nieuw.py", settings.read_text(encoding="utf-8")
                                 + "SITENAME = 'Eerste naam'\n")
        os.replace(replacement, settings)
        builder.wait_for("The settings changed")
        builder.wait_for("Built the site in")
        write_file(settings, settings.read_text(encoding="utf-8").replace(
            "Eerste naam", "Tweede naam"))
        builder.wait_for("The settings changed")
        builder.wait_for("Built the site in")
        assert "Tweede naam" in (output / "index.html").read_text(encoding="utf-8")
        # make serve stops the builder with SIGTERM: its watcher goes with it.
        watchers = child_processes(builder.process.pid)
        assert watchers
    finally:
        builder.stop()
    deadline = time.monotonic() + 10
    while any(process_exists(pid) for pid in watchers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in watchers if process_exists(pid)]
