"""The invoke tasks, run as an editor runs them: exit codes, report, dry run."""

import subprocess
import sys

from tests.support import ROOT, snapshot


def invoke(tmp_path, *arguments):
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(ROOT), *arguments],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_import_wordpress_prints_and_writes_the_report(tmp_path, data):
    content, report = tmp_path / "content", tmp_path / "rapport.txt"
    result = invoke(tmp_path, "import-wordpress", str(data("wxr_comment_rules.xml")),
                    "--content", str(content), "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert "comments imported (approved): 5" in result.stdout
    assert "Orphans: 2" in report.read_text() and f"Report written to {report}" in result.stdout
    assert (content / "comments" / "feedback-geven" / "wxr-101.md").is_file()


def test_a_dry_run_prints_the_report_and_writes_nothing(tmp_path, data):
    # One page: the folder's count changes as the importer learns new kinds of page.
    page = data("saved_pages") / "classic_theme_commentlist.html"
    result = invoke(tmp_path, "import-html", str(page), "--dry-run",
                    "--content", str(tmp_path / "content"))
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing was written" in result.stdout and "articles: 1" in result.stdout
    assert snapshot(tmp_path) == {}


def test_hostile_or_missing_input_stops_with_the_reason(tmp_path, data):
    bomb = invoke(tmp_path, "import-disqus", str(data("wxr_entity_bomb.xml")),
                  "--content", str(tmp_path / "content"))
    assert bomb.returncode == 1 and "wxr_entity_bomb.xml: refused" in bomb.stderr
    missing = invoke(tmp_path, "import-html", str(tmp_path / "bestaat-niet"))
    assert missing.returncode == 1 and "no such file or folder" in missing.stderr
    assert snapshot(tmp_path) == {}
