"""The Pages workflows: on a push to main they run `make publish` and publish output/.

GitHub Actions and GitLab CI cannot run here (no network); their files are read as
YAML and checked, and the GitLab job's script, plain shell, is run in a copy of the
project with the Pages address it would get.
"""

import os
import re
import shutil
import subprocess

import yaml

from tests.support import ROOT

GITHUB = ROOT / ".github" / "workflows" / "pages.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
MAKE = re.compile(r"(?:^|&&|;)\s*make\s+([a-z-]+)")


def github() -> dict:
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def gitlab_pages() -> dict:
    return yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["pages"]


def github_steps() -> list[dict]:
    return [step for job in github()["jobs"].values() for step in job["steps"]]


def make_targets(commands: list[str]) -> list[str]:
    return [target for command in commands for target in MAKE.findall(command)]


def python_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.search(r"(\d+)\.(\d+)", text).groups())


def test_github_publishes_on_every_push_to_main():
    workflow = github()
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_github_builds_with_make_publish_and_uploads_output():
    steps = github_steps()
    build = next(step for step in steps if step.get("run") == "make publish")
    assert "steps.pages.outputs.base_url" in build["env"]["ADVIESBLOG_SITEURL"]
    upload = next(step for step in steps if step.get("uses", "").startswith(
        "actions/upload-pages-artifact@"))
    assert upload["with"]["path"].rstrip("/") == "output"
    assert steps.index(build) < steps.index(upload)
    deploy = github()["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert all(re.search(r"@v\d+$", step["uses"]) for step in steps if "uses" in step)


def test_gitlab_publishes_on_every_push_to_main_from_public():
    job = gitlab_pages()
    assert job["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"'}]
    assert job["artifacts"]["paths"] == ["public"]
    assert "make publish" in job["script"]
    assert job["script"][-1] == "rm -rf public && mv output public"


def test_both_run_the_same_make_targets_and_the_makefile_has_them():
    github_targets = make_targets([step["run"] for step in github_steps() if "run" in step])
    gitlab_targets = make_targets(gitlab_pages()["script"])
    assert github_targets == gitlab_targets == ["publish"]
    assert re.search(r"^publish: .*## ", (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_both_use_a_python_the_project_supports():
    supported = python_version(re.search(r'requires-python = "([^"]+)"',
                                         (ROOT / "pyproject.toml").read_text())[1])
    setup = next(step for step in github_steps()
                 if step.get("uses", "").startswith("actions/setup-python@"))
    assert python_version(str(setup["with"]["python-version"])) >= supported
    assert python_version(gitlab_pages()["image"]) >= supported


def test_the_readme_documents_both_workflows():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in (".github/workflows/pages.yml", ".gitlab-ci.yml", "make deploy",
                 "ADVIESBLOG_DEPLOY_TARGET", "ADVIESBLOG_SITEURL"):
        assert name in readme


def test_the_gitlab_script_publishes_the_site_at_the_pages_address_into_public(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "output*", "public", "node_modules", "cache", "__pycache__", "var"))
    (project / ".venv").symlink_to(ROOT / ".venv")
    environ = {key: value for key, value in os.environ.items() if key != "ADVIESBLOG_SITEURL"}
    environ["CI_PAGES_URL"] = "https://kantoor.gitlab.io/blog"
    script = "set -e\n" + "\n".join(gitlab_pages()["script"])
    result = subprocess.run(["bash", "-c", script], cwd=project, env=environ,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (project / "output").exists()
    home = (project / "public" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://kantoor.gitlab.io/blog/' in home
