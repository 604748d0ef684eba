"""Upload the published site with rsync over SSH: only what changed, deleting what is gone.

``invoke deploy`` publishes first (``--fatal errors``: a content error stops it before
anything is uploaded), then runs rsync twice: a dry run that says what would change,
then the real run. Every build rewrites every file's modification time, so rsync
compares contents (``--checksum``) and leaves the target's times alone
(no ``--times``): an unchanged page keeps its bytes, its time and its ETag on the web
server, and only changed files travel.
"""

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adviesblog_common.settings import apply_defaults

DEFAULTS = {"DEPLOY_TARGET": "", "DEPLOY_SSH": "ssh"}
ENV_TARGET = "ADVIESBLOG_DEPLOY_TARGET"
ENV_SSH = "ADVIESBLOG_DEPLOY_SSH"
HOW_TO_SET = (f'set DEPLOY_TARGET = "user@host:/var/www/site/" in publishconf.py, or '
              f"{ENV_TARGET}=user@host:/var/www/site/ in the environment (which wins)")

# user@host:path or host:path; a host never starts with "-" (it would be an ssh option),
# an IPv6 address is written in brackets. "host::module" and rsync:// are rsync daemons,
# not SSH, and a target without "host:" is a local folder.
TARGET = re.compile(r"^(?:(?P<user>[^@\s:/]+)@)?(?P<host>[A-Za-z0-9_][A-Za-z0-9_.-]*"
                    r"|\[[0-9A-Fa-f:.]+\]):(?P<path>[^:].*)?$")
# A folder that --delete must never be pointed at: the root or a home folder itself.
UNSAFE_PATHS = {"", "/", ".", "./", "~", "~/"}

RSYNC_OPTIONS = [
    "--recursive", "--links", "--checksum", "--compress",
    "--perms", "--chmod=D755,F644",     # readable by the web server, whatever the local umask
    "--delete", "--delete-delay",       # what is gone from output/ goes, after the uploads
    "--delay-updates",                  # new files are put in place together, at the end
    "--itemize-changes",
]


class DeployError(Exception):
    """The site was not (fully) deployed; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    """Where the site goes and how rsync reaches it."""

    target: str
    ssh: str = "ssh"


@dataclass
class Changes:
    """What one rsync run uploaded (or, in a dry run, would upload) and deleted."""

    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.uploaded or self.deleted)


def check_target(target: str) -> str:
    """Return ``target`` if it is ``[user@]host:folder``; else raise a DeployError saying why."""
    target = target.strip()
    if not target:
        raise DeployError(f"no deploy target: {HOW_TO_SET}")
    host_part = re.sub(r"\[[^\]]*\]", "", target.split("/", 1)[0])  # IPv6 has "::" too
    if target.startswith("rsync://") or "::" in host_part:
        raise DeployError(f"{target!r} is an rsync daemon; deploy uploads over SSH: "
                          "give user@host:/path/to/site/")
    match = TARGET.match(target)
    if not match:
        raise DeployError(f"{target!r} is not an SSH target (a local folder, or a host that "
                          "starts with '-'); give user@host:/path/to/site/")
    if (match["path"] or "").strip() in UNSAFE_PATHS:
        raise DeployError(f"{target!r} names no folder of its own; --delete would empty the "
                          "root or home folder there: give user@host:/path/to/site/")
    return target


def deploy_plan(settings_file: str | os.PathLike,
                environ: Mapping[str, str] = os.environ) -> Plan:
    """The target and SSH command from the settings, the environment winning; tools checked."""
    from pelican.settings import read_settings

    settings = dict(read_settings(str(settings_file)))
    apply_defaults(settings, "DEPLOY_", DEFAULTS)
    target = check_target(environ.get(ENV_TARGET) or settings["DEPLOY_TARGET"])
    ssh = (environ.get(ENV_SSH) or settings["DEPLOY_SSH"]).strip() or "ssh"
    if not shutil.which("rsync"):
        raise DeployError("rsync is not installed; install it with: sudo apt-get install rsync")
    if not shutil.which(shlex.split(ssh)[0]):
        raise DeployError(f"{shlex.split(ssh)[0]!r} (the SSH command) is not installed; "
                          "install it with: sudo apt-get install openssh-client")
    return Plan(target=target, ssh=ssh)


def rsync_command(output: str | os.PathLike, plan: Plan, dry_run: bool) -> list[str]:
    """rsync's arguments: the contents of ``output`` (trailing slash) into the target folder."""
    source = str(output).rstrip("/") + "/"
    return ["rsync", *RSYNC_OPTIONS, *(["--dry-run"] if dry_run else []), "-e", plan.ssh,
            source, plan.target]


def parse_itemized(text: str) -> Changes:
    """Files sent (``<f...``) and paths deleted (``*deleting``) in rsync's itemized output."""
    changes = Changes()
    for line in text.splitlines():
        flags, _, path = line.partition(" ")
        if flags.startswith("<f"):
            changes.uploaded.append(path.strip())
        elif flags == "*deleting":
            changes.deleted.append(path.strip())
    return changes


def run_rsync(output: str | os.PathLike, plan: Plan, dry_run: bool) -> Changes:
    """Run rsync once; an rsync or SSH failure is a DeployError with rsync's own words."""
    result = subprocess.run(rsync_command(output, plan, dry_run), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        reason = result.stderr.strip() or result.stdout.strip()
        raise DeployError(f"rsync to {plan.target} failed (exit {result.returncode}"
                          f"{', SSH could not connect' if result.returncode == 255 else ''}): "
                          f"{reason}")
    return parse_itemized(result.stdout)


def describe(changes: Changes, listed: int = 20) -> str:
    """Counts, then the first ``listed`` paths of each kind."""
    lines = []
    for verb, paths in (("upload", changes.uploaded), ("delete", changes.deleted)):
        lines += [f"  {verb} {path}" for path in paths[:listed]]
        if len(paths) > listed:
            lines.append(f"  … and {len(paths) - listed} more to {verb}")
    return "\n".join(lines)


def upload_site(output: str | os.PathLike, plan: Plan, dry_run: bool = False,
                echo: Callable[[str], None] = print) -> Changes:
    """Dry run first and say what would change; then, unless ``dry_run``, the real run."""
    if not (Path(output) / "index.html").is_file():
        raise DeployError(f"{output}/index.html is missing: not a built site, and --delete "
                          "would empty the target; run make publish first")
    preview = run_rsync(output, plan, dry_run=True)
    echo(f"Dry run: {len(preview.uploaded)} file(s) to upload, {len(preview.deleted)} to "
         f"delete on {plan.target}")
    if preview:
        echo(describe(preview))
    if dry_run or not preview:
        echo("Nothing uploaded (dry run)." if dry_run else "The target is up to date.")
        return preview
    done = run_rsync(output, plan, dry_run=False)
    echo(f"Deployed: {len(done.uploaded)} file(s) uploaded, {len(done.deleted)} deleted "
         f"on {plan.target}")
    return done


def publish_and_upload(publish: Callable[[], None], output: str | os.PathLike, plan: Plan,
                       dry_run: bool = False) -> Changes:
    """Run ``publish``; if it stops (a content error), upload nothing and raise DeployError."""
    try:
        publish()
    except SystemExit as stopped:
        if stopped.code not in (None, 0):
            raise DeployError("the build has errors (see above); nothing was uploaded, the "
                              "site online is as it was") from stopped
    return upload_site(output, plan, dry_run=dry_run)
