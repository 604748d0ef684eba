"""Peak memory of a full build, serial against parallel, on the generated corpus.

A parallel build forks: its processes share most pages, so adding up their resident
sizes would count the site in memory once per process. The measure is the sum of
the PSS (proportional set size: each shared page split between the processes that
share it) of the build and all its child processes, sampled every 10 ms, from
/proc (Linux). The last line is ``ratio <parallel/serial>`` of the peaks.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import generate
from bench.run import ROOT, SITEURL

SAMPLE_SECONDS = 0.01


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(child) for child in children.read().split()]
        except OSError:
            pass
    return found


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_pss(command: list, environment: dict) -> int:
    """The highest summed PSS, in KiB, of ``command`` and its children while it runs."""
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(pss_kib(pid) for pid in descendants(process.pid)))
        time.sleep(SAMPLE_SECONDS)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return peak


def run(articles: int) -> float:
    with tempfile.TemporaryDirectory(prefix="adviesblog-memory-") as scratch:
        scratch = Path(scratch)
        content = generate(scratch / "content", articles)
        peaks = {}
        for variant, serial in (("serial", "1"), ("parallel", "")):
            command = [sys.executable, "-m", "pelican", "-s", str(ROOT / "publishconf.py"),
                       "-e", f'PATH="{content}"', f'SITEURL="{SITEURL}"',
                       f'FEED_DOMAIN="{SITEURL}"', "-o", str(scratch / variant), "-q"]
            environment = dict(os.environ, ADVIESBLOG_SERIAL=serial)
            peaks[variant] = peak_pss(command, environment)
    print(f"articles {articles}; peak PSS of the build and its child processes")
    for variant, peak in peaks.items():
        print(f"{variant:8} {peak / 1024:.0f} MiB")
    ratio = peaks["parallel"] / peaks["serial"]
    print(f"ratio {ratio:.2f}")
    return ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    arguments = parser.parse_args(argv)
    run(arguments.articles)


if __name__ == "__main__":
    main()
