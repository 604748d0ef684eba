"""Time ``make serve``'s rebuild after a save: from the save to the saved page on disk.

One builder process, as ``make serve`` runs it, builds the generated corpus with the
development settings and keeps watching it. Each run then saves one file, a body
edit, a title edit or a new article, and measures two moments after the save:

- ``page``: the saved article's page on disk shows the change;
- ``site``: the builder says the whole site is built again.

The next run starts when the builder is idle. ``--builder pelican`` times Pelican's
own ``--autoreload`` (what ``make serve`` ran before), which has only one moment:
its whole build writes the page along the way.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.corpus import generate

ROOT = Path(__file__).resolve().parent.parent
# The line each builder prints when a whole build is done.
BUILD_DONE = {"ours": "Built the site in", "pelican": "Done: Processed"}
POLL_SECONDS = 0.002
TIMEOUT_SECONDS = 120


class BuilderProcess:
    """The builder, with the times at which it said a build was done."""

    def __init__(self, builder: str, content: Path, output: Path):
        if builder == "ours":
            command = [sys.executable, "-m", "service.rebuild", "--settings",
                       str(ROOT / "pelicanconf.py"), "--output", str(output),
                       "--content", str(content)]
        else:
            command = [sys.executable, "-m", "pelican", "-s", str(ROOT / "pelicanconf.py"),
                       "-e", f'PATH="{content}"', "--autoreload", "-o", str(output)]
        environment = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"), COLUMNS="200")
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._done_line = BUILD_DONE[builder]
        self.builds_done = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            if self._done_line in line:
                self.builds_done.append(time.perf_counter())

    def wait_for_build(self, after: float) -> float:
        deadline = time.perf_counter() + TIMEOUT_SECONDS
        while time.perf_counter() < deadline:
            done = [moment for moment in self.builds_done if moment > after]
            if done:
                return done[0]
            time.sleep(POLL_SECONDS)
        raise TimeoutError("the builder did not finish a build")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def year_of(source: Path) -> str:
    return re.search(r"^Date: (\d{4})", source.read_text(encoding="utf-8"), re.M).group(1)


def save(kind: str, content: Path, token: str) -> tuple[Path, str]:
    """Make one edit of ``kind``; the source and the page that must show ``token``."""
    if kind == "new":
        # In the corpus's first year, which every corpus has.
        year = min(folder.name for folder in (content / "articles").iterdir())
        source = content / "articles" / year / f"{token}.md"
        source.write_text(
            f"Title: Nieuw artikel {token}\nDate: {year}-01-01 08:00\nSlug: {token}\n"
            f"Author: eva-de-boer\nCategory: Samenwerken\nTags: overleg\n\n"
            f"Een nieuw artikel over samenwerken, met {token}.\n", encoding="utf-8")
        return source, f"{year}/{token}/index.html"
    articles = sorted(content.glob("articles/*/artikel-*.md"))
    # One article for the body edits, another for the title edits, mid-corpus.
    source = articles[len(articles) // 2 if kind == "body" else len(articles) * 3 // 5]
    text = source.read_text(encoding="utf-8")
    if kind == "body":
        text += f"\nEen extra alinea met {token}.\n"
    else:
        text = re.sub(r"^Title: (.*)$", rf"Title: \1 {token}", text, count=1, flags=re.M)
    source.write_text(text, encoding="utf-8")
    return source, f"{year_of(source)}/{source.stem}/index.html"


def wait_for_page(page: Path, token: bytes) -> float:
    deadline = time.perf_counter() + TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        try:
            if token in page.read_bytes():
                return time.perf_counter()
        except OSError:
            pass
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{page} never showed the change")


def run(articles: int, runs: int, builder: str = "ours") -> dict:
    with tempfile.TemporaryDirectory(prefix="adviesblog-rebuild-") as scratch:
        scratch = Path(scratch)
        content = generate(scratch / "content", articles)
        output = scratch / "output"
        process = BuilderProcess(builder, content, output)
        try:
            process.wait_for_build(0)
            timings = {}
            for kind in ("body", "title", "new"):
                for number in range(runs):
                    token = f"meting{kind}{number}"
                    # Editors save files whole; a save in the same second as the last
                    # build must still count as a change.
                    time.sleep(0.05)
                    saved = time.perf_counter()
                    _, page = save(kind, content, token)
                    shown = wait_for_page(output / page, token.encode())
                    built = process.wait_for_build(saved)
                    timings.setdefault(kind, []).append((shown - saved, built - saved))
                    time.sleep(0.3)
        finally:
            process.stop()
    print(f"articles {articles}, {runs} saves of each kind, builder {builder}; "
          "seconds from the save")
    for kind, measured in timings.items():
        page = statistics.median(t for t, _ in measured)
        site = statistics.median(t for _, t in measured)
        runs_shown = ", ".join(f"{t:.2f}" for t, _ in measured)
        print(f"{kind:5} page median {page:.2f} s (runs {runs_shown}); "
              f"whole site median {site:.2f} s")
    return timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--builder", choices=("ours", "pelican"), default="ours")
    arguments = parser.parse_args(argv)
    run(arguments.articles, arguments.runs, arguments.builder)


if __name__ == "__main__":
    main()
