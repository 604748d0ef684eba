"""``invoke deploy`` against a real sshd on 127.0.0.1: what arrives, what changes, what stays.

The sshd runs as the current user with its own host key and one client key, in a temp
folder; rsync reaches it through ``ADVIESBLOG_DEPLOY_SSH``. Without rsync, ssh or sshd
these tests fail in CI and skip elsewhere, saying what to install.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy import DeployError, Plan, check_target, deploy_plan, upload_site
from deploy.deploy import parse_itemized, rsync_command
from tests.support import ROOT, UNSTABLE_PAGEFIND, copy_content, snapshot, write_file
from tests.tools import require_tool

SSHD = "/usr/sbin/sshd"
DEBIAN_PACKAGES = "sudo apt-get install rsync openssh-client openssh-server"

# The real command line, with the output folder and settings file of the test's own site.
DEPLOY = """
import sys
from invoke import Collection, Program
import tasks
tasks.CONFIG["output"], tasks.CONFIG["settings_publish"] = sys.argv[1], sys.argv[2]
Program(namespace=Collection.from_module(tasks), binary="invoke").run(
    ["invoke", "deploy", *sys.argv[3:]])
"""

SETTINGS = """
import sys
sys.path.insert(0, {root!r})
from publishconf import *  # noqa: F403
PATH = {content!r}
DEPLOY_TARGET = {target!r}
"""

# An article no other page links to, so that taking it away is no content error.
EXTRA = """Title: Een tijdelijk artikel
Date: 2026-01-05 09:00
Author: marloes-verhagen
Category: Klantgerichtheid
Summary: Dit artikel staat er even.

Het verdwijnt weer.
"""


# --- the target and the command, without a server -------------------------------------

@pytest.mark.parametrize("target", ["deploy@example.org:/var/www/site/", "example.org:site",
                                    "web_1:/srv/www", "u@[2001:db8::1]:/var/www/"])
def test_an_ssh_target_with_a_folder_is_accepted(target):
    assert check_target(f" {target} ") == target


@pytest.mark.parametrize("target, reason", [
    ("", "no deploy target: set DEPLOY_TARGET"),
    ("/var/www/site", "not an SSH target"),
    ("output-copy", "not an SSH target"),
    ("-oProxyCommand=touch x:/tmp", "not an SSH target"),
    ("host::module/site", "rsync daemon"),
    ("rsync://host/module", "rsync daemon"),
    ("user@host:", "names no folder"),
    ("user@host:/", "names no folder"),
    ("user@host:~/", "names no folder"),
])
def test_a_target_that_is_not_an_ssh_folder_is_refused_with_the_reason(target, reason):
    with pytest.raises(DeployError, match=reason):
        check_target(target)


def test_a_missing_target_says_how_to_set_it(tmp_path):
    settings = write_file(tmp_path / "conf.py", SETTINGS.format(
        root=str(ROOT), content=str(ROOT / "content"), target=""))
    with pytest.raises(DeployError) as raised:
        deploy_plan(settings, environ={})
    assert "publishconf.py" in str(raised.value)
    assert "ADVIESBLOG_DEPLOY_TARGET" in str(raised.value)


def test_the_environment_wins_over_the_settings(tmp_path):
    settings = write_file(tmp_path / "conf.py", SETTINGS.format(
        root=str(ROOT), content=str(ROOT / "content"), target="a@settings:/srv/site/"))
    require_tool(shutil.which("rsync"), "rsync", DEBIAN_PACKAGES)
    assert deploy_plan(settings, environ={}) == Plan("a@settings:/srv/site/", "ssh")
    environ = {"ADVIESBLOG_DEPLOY_TARGET": "b@env:/srv/site/",
               "ADVIESBLOG_DEPLOY_SSH": "ssh -p 2222"}
    assert deploy_plan(settings, environ=environ) == Plan("b@env:/srv/site/", "ssh -p 2222")


def test_a_misspelt_deploy_setting_is_reported_with_a_suggestion(tmp_path, caplog):
    settings = write_file(tmp_path / "conf.py", SETTINGS.format(
        root=str(ROOT), content=str(ROOT / "content"), target="") + 'DEPLOY_TARGE = "a@b:/c/"\n')
    with pytest.raises(DeployError, match="no deploy target"):
        deploy_plan(settings, environ={})
    assert "unknown setting DEPLOY_TARGE. Did you mean DEPLOY_TARGET?" in caplog.text


def test_a_missing_rsync_names_the_debian_package(tmp_path, monkeypatch):
    settings = write_file(tmp_path / "conf.py", SETTINGS.format(
        root=str(ROOT), content=str(ROOT / "content"), target="a@host:/srv/site/"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DeployError, match="apt-get install rsync"):
        deploy_plan(settings, environ={})


def test_rsync_compares_contents_deletes_and_uploads_the_folders_contents():
    command = rsync_command("output", Plan("u@h:/srv/site/", "ssh -p 2222"), dry_run=True)
    assert {"--checksum", "--delete", "--dry-run", "--itemize-changes"} <= set(command)
    assert "--times" not in command and "--archive" not in command
    assert command[-4:] == ["-e", "ssh -p 2222", "output/", "u@h:/srv/site/"]


def test_itemized_output_is_read_as_uploads_and_deletions():
    changes = parse_itemized("cd+++++++++ nieuw/\n<f+++++++++ nieuw/index.html\n"
                             "<fcs....... index.html\n.f...p..... robots.txt\n"
                             "*deleting   oud/index.html\n*deleting   oud/\n")
    assert changes.uploaded == ["nieuw/index.html", "index.html"]
    assert changes.deleted == ["oud/index.html", "oud/"]


# --- a real sshd ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd stopped: {process.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"sshd did not listen on port {port} within {seconds} s")


class SshServer:
    """An sshd on 127.0.0.1 that lets the current user in with a temp client key."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.user = subprocess.run(["id", "-un"], capture_output=True, text=True,
                                   check=True).stdout.strip()
        for name in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(folder / name)], check=True)
        shutil.copy(folder / "client_key.pub", folder / "authorized_keys")
        host_key = " ".join((folder / "host_key.pub").read_text().split()[:2])
        write_file(folder / "known_hosts", f"[127.0.0.1]:{self.port} {host_key}\n")
        write_file(folder / "sshd_config", "\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}",
            f"PidFile {folder / 'sshd.pid'}", f"AuthorizedKeysFile {folder / 'authorized_keys'}",
            "StrictModes no", "UsePAM no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
            f"AllowUsers {self.user}", "LogLevel ERROR", ""]))

    def ssh(self, port: int | None = None) -> str:
        """The SSH command for rsync's ``-e``: this key, and this server's host key only."""
        return (f"ssh -F /dev/null -p {port or self.port} -i {self.folder / 'client_key'} "
                f"-o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes "
                f"-o UserKnownHostsFile={self.folder / 'known_hosts'}")


@pytest.fixture(scope="module")
def ssh_server(tmp_path_factory):
    require_tool(shutil.which("rsync"), "rsync", DEBIAN_PACKAGES)
    require_tool(shutil.which("ssh"), "ssh", DEBIAN_PACKAGES)
    require_tool(SSHD if os.access(SSHD, os.X_OK) else None, "sshd", DEBIAN_PACKAGES)
    server = SshServer(tmp_path_factory.mktemp("sshd"))
    if os.geteuid() == 0:  # sshd run by root wants its privilege separation folder
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(server.folder / "sshd_config")],
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(server.port, process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


class Site:
    """A copy of the sample content, its settings file and output, and a target folder."""

    def __init__(self, tmp_path: Path, server: SshServer):
        self.ssh = server.ssh()
        self.content = copy_content(tmp_path / "content")
        self.extra = write_file(self.content / "articles" / "2026" / "tijdelijk.md", EXTRA)
        self.output, self.remote = tmp_path / "output", tmp_path / "www" / "site"
        self.remote.mkdir(parents=True)
        self.target = f"{server.user}@127.0.0.1:{self.remote}/"
        self.settings = write_file(tmp_path / "deployconf.py", SETTINGS.format(
            root=str(ROOT), content=str(self.content), target=self.target))

    def deploy(self, *arguments: str) -> subprocess.CompletedProcess:
        environ = dict(os.environ, ADVIESBLOG_DEPLOY_SSH=self.ssh)
        environ.pop("ADVIESBLOG_DEPLOY_TARGET", None)  # the settings file's target
        return subprocess.run([sys.executable, "-c", DEPLOY, str(self.output), str(self.settings),
                               *arguments], cwd=ROOT, env=environ, capture_output=True,
                              text=True, timeout=300)

    def inodes(self) -> dict[str, int]:
        return {p.relative_to(self.remote).as_posix(): p.stat().st_ino
                for p in self.remote.rglob("*") if p.is_file()}


@pytest.fixture
def deployed(tmp_path, ssh_server) -> Site:
    site = Site(tmp_path, ssh_server)
    first = site.deploy()
    assert first.returncode == 0, first.stdout + first.stderr
    return site


def test_a_deploy_uploads_the_whole_published_site(deployed):
    assert snapshot(deployed.remote) == snapshot(deployed.output)
    assert (deployed.remote / "index.html").is_file()
    assert (deployed.remote / "index.html").stat().st_mode & 0o777 == 0o644


def test_a_second_deploy_uploads_only_what_changed_and_deletes_what_is_gone(deployed):
    before, inodes = snapshot(deployed.output), deployed.inodes()
    changed = deployed.content / "articles" / "2024" / "leidinggeven-op-afstand.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nEen nieuwe slotzin.\n",
                       encoding="utf-8")
    deployed.extra.unlink()

    second = deployed.deploy()

    assert second.returncode == 0, second.stdout + second.stderr
    after = snapshot(deployed.output)
    assert snapshot(deployed.remote) == after
    differ = {path for path in after if before.get(path) != after[path]}
    gone = set(before) - set(after)
    assert "een-tijdelijk-artikel/index.html" in "\n".join(gone)
    assert not [path for path in gone if (deployed.remote / path).exists()]
    assert differ and len(differ) < len(after) / 2
    replaced = {path for path, inode in deployed.inodes().items() if inodes.get(path) != inode}
    assert replaced == differ  # every other file on the target was left alone
    assert f"Deployed: {len(differ)} file(s) uploaded" in second.stdout


def test_a_build_with_a_content_error_uploads_nothing(deployed):
    online = snapshot(deployed.remote)
    write_file(deployed.content / "articles" / "2026" / "kapot.md",
               "Title: Kapot\nDate: morgen\n\nTekst.\n")
    deployed.extra.unlink()

    failed = deployed.deploy()

    assert failed.returncode != 0
    assert "kapot.md" in failed.stdout + failed.stderr
    assert "Not deployed: the build has errors" in failed.stderr
    assert "Dry run" not in failed.stdout
    assert snapshot(deployed.remote) == online


def test_a_dry_run_says_what_would_change_and_changes_nothing(deployed):
    online = snapshot(deployed.remote)
    deployed.extra.unlink()

    dry = deployed.deploy("--dry-run")

    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Nothing uploaded (dry run)." in dry.stdout
    assert "to delete" in dry.stdout and "  delete " in dry.stdout
    assert snapshot(deployed.remote) == online


def test_a_rebuild_of_the_same_content_uploads_only_what_every_build_changes(deployed):
    before, inodes = snapshot(deployed.output), deployed.inodes()
    again = deployed.deploy()
    assert again.returncode == 0, again.stdout + again.stderr
    after = snapshot(deployed.output)
    replaced = {path for path, inode in deployed.inodes().items() if inodes.get(path) != inode}
    assert replaced == {path for path in after if before.get(path) != after[path]}
    # the sitemap's build time and Pagefind's hashed file names; no page, feed or image
    assert all(path == "sitemap.xml" or UNSTABLE_PAGEFIND.match(path) for path in replaced)


def test_an_up_to_date_target_gets_no_second_rsync_run(deployed):
    said = []
    plan = Plan(deployed.target, deployed.ssh)
    assert not upload_site(deployed.output, plan, echo=said.append)
    assert said[-1] == "The target is up to date."


def test_an_unreachable_target_fails_with_rsyncs_reason(tmp_path, ssh_server):
    site = Site(tmp_path, ssh_server)
    site.ssh = ssh_server.ssh(port=free_port())  # nothing listens there
    failed = site.deploy()
    assert failed.returncode != 0
    assert "Not deployed: rsync to" in failed.stderr
    assert not any(site.remote.iterdir())


def test_make_deploy_dry_run_passes_the_flag():
    dry = subprocess.run(["make", "-n", "deploy", "DRY_RUN=1"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    real = subprocess.run(["make", "-n", "deploy"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    assert "invoke deploy --dry-run" in dry
    assert "invoke deploy" in real and "--dry-run" not in real
