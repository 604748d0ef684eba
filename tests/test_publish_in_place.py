"""`invoke publish` swaps a finished build in: a failed one leaves the live output/ alone.

The web server and the follow service read output/ while a publish runs, so a typo in
one article must not take the site and the sign-up pages offline.
"""

import subprocess
import sys

from tests.support import ROOT, copy_content, write_file

PUBLISH = """
import sys
import tasks
tasks.CONFIG["output"] = sys.argv[1]
tasks.publish_in_place("-s", "publishconf.py", "--fatal", "errors", "-e", f'PATH="{sys.argv[2]}"')
"""


def publish(output, content) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PUBLISH, str(output), str(content)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_a_failed_publish_leaves_the_live_site_as_it_was(tmp_path):
    content = copy_content(tmp_path / "content")
    output = tmp_path / "output"
    assert publish(output, content).returncode == 0
    live_page = (output / "volg" / "formulier.json").read_bytes()
    page_count = len(list(output.rglob("*.html")))

    write_file(content / "articles" / "2026" / "kapot.md",
               "Title: Kapot\nDate: morgen\n\nTekst.\n")
    failed = publish(output, content)

    assert failed.returncode != 0
    assert "kapot.md" in failed.stdout + failed.stderr
    assert (output / "volg" / "formulier.json").read_bytes() == live_page
    assert len(list(output.rglob("*.html"))) == page_count
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "output"]


def test_a_good_publish_replaces_the_output_whole(tmp_path):
    content = copy_content(tmp_path / "content")
    output = tmp_path / "output"
    write_file(output / "oud-bestand.html", "<p>van een vorige build</p>")
    assert publish(output, content).returncode == 0
    assert not (output / "oud-bestand.html").exists()
    assert (output / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "output"]
