"""Locating the external tools some tests need; fail in CI, skip elsewhere."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT, in_ci

# Headless, as root, on a machine whose network is closed: no background requests.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LIGHTHOUSE_CLI = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"


def require_tool(found, what: str, how_to_install: str):
    """Return ``found``; without it, fail in CI and skip on a user's machine."""
    if found:
        return found
    message = f"{what} is not available; install it with: {how_to_install}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def java_and_vnu() -> tuple[str, Path]:
    java = require_tool(shutil.which("java"), "Java", "sudo apt-get install default-jre-headless")
    jar = require_tool(VNU_JAR if VNU_JAR.is_file() else None, "vnu.jar",
                       "npm ci (in the project folder; needs Node.js and npm)")
    return java, jar


def axe_script() -> Path:
    return require_tool(AXE_SCRIPT if AXE_SCRIPT.is_file() else None, "axe-core",
                        "npm ci (in the project folder; needs Node.js and npm)")


def node_and_lighthouse() -> tuple[str, Path]:
    node = require_tool(shutil.which("node"), "Node.js", "sudo apt-get install npm")
    cli = require_tool(LIGHTHOUSE_CLI if LIGHTHOUSE_CLI.is_file() else None, "Lighthouse",
                       "npm ci (in the project folder; needs Node.js and npm)")
    return node, cli


def chromium() -> str:
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)),
                 None)
    return require_tool(found, "Chromium", "sudo apt-get install chromium")


def vnu_errors(folder) -> list[str]:
    java, jar = java_and_vnu()
    result = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--skip-non-html", "--format", "json",
         str(folder)],
        capture_output=True, text=True, timeout=600,
    )
    report = json.loads(result.stderr or result.stdout or '{"messages": []}')
    return [
        f"{m.get('url', '?').rsplit('/output/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m.get("type") in ("error", "non-document-error") and not _service_marker(m)
    ]


def _service_marker(message: dict) -> bool:
    """An error about a marker of the reaction service's form page, which it fills in.

    The page holds ``__REACTIE_MELDING_AAN__`` where "checked" goes and a marker as the
    value of a URL field; plugins/comments/test_reaction_pages.py validates it filled in.
    """
    return (message.get("url", "").endswith("/reactie/pagina/formulier.html")
            and "__reactie_" in message.get("message", "").lower())
