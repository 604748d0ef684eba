"""The parallel build writes exactly what the serial build writes.

Every build here is Pelican's command line in its own process, as ``make publish``
and ``invoke bench`` run it: the test process may have threads (then the plugin
builds serially), and each build must show in its log that it did fork.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.corpus import generate
from tests.support import (
    PUBLISH_SITEURL,
    ROOT,
    assert_same_site,
    child_processes,
    process_exists,
    write_file,
)

FORKED = ("parallel: converting", "parallel: rendering")


def build(content: Path, output: Path, *settings: str, theme: Path | None = None,
          check: bool = True, settings_file: str = "publishconf.py") -> subprocess.CompletedProcess:
    overrides = [f'PATH="{content}"', f'SITEURL="{PUBLISH_SITEURL}"',
                 f'FEED_DOMAIN="{PUBLISH_SITEURL}"', *settings]
    if theme:
        overrides.append(f'THEME="{theme}"')
    environment = dict(os.environ, COLUMNS="400")
    environment.pop("ADVIESBLOG_SERIAL", None)
    finished = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", str(ROOT / settings_file), "-v",
         "-o", str(output), "-e", *overrides],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=environment)
    if check:
        assert finished.returncode == 0, finished.stderr[-3000:]
    return finished


def log_of(finished: subprocess.CompletedProcess) -> str:
    # Pelican logs through Rich to stdout; a forked child logs to stderr.
    return finished.stdout + finished.stderr


def serial_and_parallel(content: Path, tmp_path: Path, *settings: str,
                        settings_file: str = "publishconf.py") -> tuple[Path, Path]:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    serial_log = log_of(build(content, serial, "PARALLEL_PROCESSES=1", *settings,
                              settings_file=settings_file))
    parallel_log = log_of(build(content, parallel, "PARALLEL_PROCESSES=2", *settings,
                                settings_file=settings_file))
    assert not any(line in serial_log for line in FORKED)
    for line in FORKED:
        assert line in parallel_log, f"the parallel build did not fork: {line!r} not logged"
    return serial, parallel


def test_sample_site_parallel_equals_serial(tmp_path):
    # The sample site is below PARALLEL_MIN_FILES; forced to fork here.
    serial, parallel = serial_and_parallel(ROOT / "content", tmp_path, "PARALLEL_MIN_FILES=1")
    assert (parallel / "index.html").is_file()
    assert_same_site(serial, parallel)


def test_bench_corpus_parallel_equals_serial(tmp_path):
    content = generate(tmp_path / "content", 120)
    serial, parallel = serial_and_parallel(content, tmp_path)
    articles = list(parallel.glob("20*/*/index.html"))
    assert len(articles) == 120
    assert_same_site(serial, parallel)


def test_a_worker_that_dies_leaves_its_files_to_pelican(tmp_path):
    content = generate(tmp_path / "content", 80)
    dying = next((content / "articles").rglob("artikel-00040.md"))
    dying.write_text(dying.read_text(encoding="utf-8") + "\nSTERF\n", encoding="utf-8")
    extensions = ('MARKDOWN={"extension_configs": {"markdown.extensions.extra": {}, '
                  '"markdown.extensions.meta": {}, "markdown.extensions.toc": {}, '
                  '"parallel.test_data.dying_extension": {}}, "output_format": "html5"}')
    serial, parallel = serial_and_parallel(content, tmp_path, extensions)
    assert "STERF" in (parallel / dying.parent.name / "artikel-00040" / "index.html").read_text(
        encoding="utf-8")
    assert_same_site(serial, parallel)


def test_markdown_settings_a_worker_cannot_load_read_as_in_a_serial_build(tmp_path):
    content = generate(tmp_path / "content", 60)
    typo = 'MARKDOWN={"extension_configs": {"markdown.extensions.tocc": {}}}'
    reported = []
    for processes in (1, 2):
        log = log_of(build(content, tmp_path / f"out-{processes}",
                           f"PARALLEL_PROCESSES={processes}", typo, check=False))
        reported.append(sorted(set(re.findall(r"Could not process\s+(\S+\.md)", log))))
    # Every article, and the one page.
    assert len(reported[0]) == 61
    assert reported[1] == reported[0]


def test_dev_settings_parallel_equals_serial(tmp_path):
    # Relative URLs: each page's links depend on where it is written.
    content = generate(tmp_path / "content", 80)
    write_file(content / "articles" / "2012" / "concept.md",
               "Title: Een concept\nDate: 2012-02-01 09:00\nStatus: draft\n\nNog niet af.\n")
    serial, parallel = serial_and_parallel(content, tmp_path, settings_file="pelicanconf.py")
    assert (parallel / "drafts" / "een-concept" / "index.html").is_file()
    assert_same_site(serial, parallel)


def test_a_file_a_worker_cannot_read_gets_the_serial_error(tmp_path):
    content = generate(tmp_path / "content", 60)
    broken = next((content / "articles").iterdir()) / "niet-utf8.md"
    broken.write_bytes(b"Title: Kapot\nDate: 2013-05-01 09:00\n\nCaf\xe9 zonder UTF-8.\n")
    messages = []
    for processes in (1, 2):
        log = log_of(build(content, tmp_path / f"out-{processes}",
                           f"PARALLEL_PROCESSES={processes}", check=False))
        messages.append(sorted(set(re.findall(r"niet-utf8\.md: [^\n]*?UTF-8", log))))
    assert messages[0], "the serial build did not report the file"
    assert messages[1] == messages[0]


@pytest.mark.parametrize("failing", ["one page", "every tenth page"])
def test_a_template_error_stops_the_parallel_build_as_the_serial_one(tmp_path, failing):
    content = generate(tmp_path / "content", 60)
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    article = theme / "templates" / "article.html"
    slugs = "artikel-00031" if failing == "one page" else "0"
    # Pelican's process stops at the first failing page it renders or takes from the
    # child; the child stops at its own first.
    write_file(article, article.read_text(encoding="utf-8").replace(
        "{% block content %}",
        f"{{% block content %}}{{% if article.slug.endswith('{slugs}') %}}"
        "{{ 1 // 0 }}{% endif %}", 1))
    for processes in (1, 2):
        finished = build(content, tmp_path / f"out-{processes}",
                         f"PARALLEL_PROCESSES={processes}", theme=theme, check=False)
        assert finished.returncode != 0
        assert "ZeroDivisionError" in log_of(finished)


def test_a_build_stopped_with_sigterm_leaves_no_worker(tmp_path):
    content = generate(tmp_path / "content", 400)
    environment = dict(os.environ, COLUMNS="400")
    environment.pop("ADVIESBLOG_SERIAL", None)
    build = subprocess.Popen(
        [sys.executable, "-m", "pelican", "-s", str(ROOT / "publishconf.py"), "-q",
         "-o", str(tmp_path / "out"), "-e", f'PATH="{content}"'],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers = []
    while not workers and build.poll() is None and time.monotonic() < deadline:
        workers = child_processes(build.pid)
        time.sleep(0.005)
    build.terminate()
    build.wait(timeout=30)
    assert workers, "the build forked no worker"
    deadline = time.monotonic() + 10
    while any(process_exists(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if process_exists(pid)]


def test_serial_switch_turns_forking_off(tmp_path):
    content = generate(tmp_path / "content", 60)
    environment = dict(os.environ, ADVIESBLOG_SERIAL="1", COLUMNS="400")
    finished = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", str(ROOT / "publishconf.py"), "-v",
         "-o", str(tmp_path / "out"), "-e", f'PATH="{content}"'],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=environment)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert not any(line in log_of(finished) for line in FORKED)
    assert len(list((tmp_path / "out").glob("20*/*/index.html"))) == 60
