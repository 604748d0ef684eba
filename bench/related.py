"""What choosing related articles costs, on the generated corpus.

The corpus is read once by a real build with our publish settings (serial, so the
timing runs in this process); then ``assign_related`` runs again on its final
articles, ``--runs`` times. The last line is the median in ms and per article.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pelican import Pelican, signals
from pelican.settings import read_settings

from bench.corpus import generate
from bench.run import ROOT, SITEURL


def time_related(articles: int, runs: int) -> float:
    from related.related import assign_related  # importable once Pelican loaded PLUGIN_PATHS

    timings = []

    def measure(generators):
        generator = next(g for g in generators if type(g).__name__ == "ArticlesGenerator")
        for _run in range(runs):
            started = time.perf_counter()
            assign_related(generator)
            timings.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory(prefix="adviesblog-related-") as scratch:
        content = generate(Path(scratch) / "content", articles)
        settings = read_settings(str(ROOT / "publishconf.py"), override={
            "PATH": str(content), "OUTPUT_PATH": str(Path(scratch) / "output"),
            "SITEURL": SITEURL, "FEED_DOMAIN": SITEURL, "PARALLEL_PROCESSES": 1,
        })
        signals.all_generators_finalized.connect(measure)
        try:
            Pelican(settings).run()
        finally:
            signals.all_generators_finalized.disconnect(measure)
    median = statistics.median(timings)
    print(f"articles {articles}, {runs} runs: related articles chosen in median "
          f"{median * 1000:.1f} ms ({median / articles * 1e6:.1f} µs/article)")
    return median


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "plugins"))
    time_related(arguments.articles, arguments.runs)


if __name__ == "__main__":
    main()
