"""Time a full adviesblog build against plain Pelican on the same corpus.

"Plain" means Pelican's default theme and no plugins. By default it keeps the
rest of our publish settings (URL layout, pagination, archives, Markdown
extensions, feeds), so the ratio is the cost of our plugins and theme alone.
``--against defaults`` compares with Pelican's out-of-the-box settings instead,
which also counts the cost of our URL layout (a folder per page) and pagination.

Each build runs in its own process (Pelican's signals are process-global), the two
variants alternate so that drift on the machine hits both, and the last line is
``ratio <ours/plain>`` of the medians.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import generate

ROOT = Path(__file__).resolve().parent.parent
SITEURL = "https://bench.example"

PLAIN_SETTINGS = {
    # Our publish settings with Pelican's default theme and no plugins.
    "ours": """\
import sys
sys.path.insert(0, {root!r})
from publishconf import *
PATH = {content!r}
SITEURL = FEED_DOMAIN = {siteurl!r}
THEME = "notmyidea"
PLUGINS = []
# Pelican's theme is not written for autoescaping; time it as Pelican ships it.
JINJA_ENVIRONMENT = {{**JINJA_ENVIRONMENT, "autoescape": False}}
DIRECT_TEMPLATES = ["index", "tags", "categories", "authors", "archives"]
""",
    # Pelican as it comes: only what the corpus layout needs.
    "defaults": """\
PATH = {content!r}
ARTICLE_PATHS = ["articles"]
PAGE_PATHS = ["pages"]
SITEURL = FEED_DOMAIN = {siteurl!r}
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "nl"
PLUGINS = []
CACHE_CONTENT = False
""",
}


def build_command(variant: str, content: Path, output: Path, plain_settings: Path,
                  extra: tuple = ()) -> list:
    if variant == "plain":
        settings = ["-s", str(plain_settings)]
    else:
        settings = ["-s", str(ROOT / "publishconf.py"), "-e", f'PATH="{content}"',
                    f'SITEURL="{SITEURL}"', f'FEED_DOMAIN="{SITEURL}"', *extra]
    return [sys.executable, "-m", "pelican", *settings, "-o", str(output), "-q"]


def time_build(command: list, output: Path) -> float:
    # Both variants start from an empty folder; clearing it is not part of a build.
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run(articles: int, repeats: int, against: str = "ours", extra: tuple = ()) -> float:
    with tempfile.TemporaryDirectory(prefix="adviesblog-bench-") as scratch:
        scratch = Path(scratch)
        content = generate(scratch / "content", articles)
        plain_settings = scratch / "plain.py"
        plain_settings.write_text(PLAIN_SETTINGS[against].format(
            root=str(ROOT), content=str(content), siteurl=SITEURL))
        timings = {"ours": [], "plain": []}
        for round_number in range(repeats):
            order = ("ours", "plain") if round_number % 2 == 0 else ("plain", "ours")
            for variant in order:
                output = scratch / f"out-{variant}"
                command = build_command(variant, content, output, plain_settings, extra)
                timings[variant].append(time_build(command, output))
        ours, plain = (statistics.median(timings[v]) for v in ("ours", "plain"))
        print(f"articles {articles}, {repeats} builds each, plain = default theme, "
              f"no plugins, {against} settings; ours with {' '.join(extra) or 'no overrides'}")
        for variant, median in (("ours", ours), ("plain", plain)):
            runs = ", ".join(f"{t:.2f}" for t in timings[variant])
            print(f"{variant:5} median {median:.2f} s ({median / articles * 1000:.2f} ms/article;"
                  f" runs {runs})")
        ratio = ours / plain
        print(f"ratio {ratio:.2f}")
        return ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", choices=sorted(PLAIN_SETTINGS), default="ours",
                        help="settings of the plain build (default: ours)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override one of our settings, e.g. FOLLOW_EDITIONS_MAX=100")
    arguments = parser.parse_args(argv)
    run(arguments.articles, arguments.repeats, arguments.against, tuple(arguments.set))


if __name__ == "__main__":
    main()
