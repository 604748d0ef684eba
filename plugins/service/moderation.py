"""``invoke reactions``: list, show, approve, reject or mark as spam the reactions awaiting moderation.

Approving writes ``content/comments/<slug>/<id>.md`` with ``source: site`` through the
importers' writer (``migrate.store.ContentStore``): the body is converted by the same
``comment_markdown`` as an imported comment, the write is atomic and recorded in
``content/.migrate/state.json``, and an existing file is never overwritten. Then the
reaction is marked approved and, in the same transaction, the notification of the
commenter it answers (if they confirmed they want one) is journaled and queued; the
service's outbox worker sends it. So approving twice, or after a crash half-way,
writes one file and sends one notification.

``REACTIONS_REBUILD_COMMAND`` runs after an approval, so a server that holds the site
republishes by itself. Rejecting or marking as spam forgets the text, the name and
the commenter's address; only the id, the status and the times stay.

Everything here speaks to the moderator, in English; nothing is shown to readers.
"""

import os
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from adviesblog_common.headers import format_header
from migrate.store import CREATED, UNCHANGED, ContentStore, Report, utc_iso
from migrate.text import comment_markdown

from .admin import AdminError, load_config
from .app import CannotMail, SiteNotBuilt
from .config import ServiceConfig
from .reactions import MANIFEST_FILE, absolute_url, load_site, message, quoted, stop_url
from .store import (
    APPROVED,
    AWAITING,
    REJECTED,
    SPAM,
    Reaction,
    Store,
    StoreError,
    open_store,
    utcnow,
)

ACTIONS = ("list", "show", "approve", "reject", "spam")
STATUSES = (AWAITING, APPROVED, REJECTED, SPAM)
SOURCE = "site"
OK, FAILED, USAGE = 0, 1, 2
AFTER_FAILED_REBUILD = ("the approval stands. Rebuild by hand once it is fixed, then approve "
                        "again: that sends the reply notification, if one is due")
EXCERPT_LENGTH = 60


class ModerationError(Exception):
    """A one-line reason for the moderator why the action did not run."""


def comment_file(reaction: Reaction) -> str:
    """The comment file of an approved reaction, in the comments plugin's format."""
    fields = {
        "id": reaction.id,
        "parent": reaction.parent,
        "author": reaction.author,
        "author_url": reaction.author_url,
        "date": utc_iso(reaction.created_at),
        "type": "comment",
        "status": "approved",
        "source": SOURCE,
        "source_id": reaction.id,
    }
    return format_header(fields, comment_markdown(reaction.html, Counter()))


def list_reactions(store: Store, out: TextIO, status: str) -> int:
    if status not in (*STATUSES, "all"):
        raise ModerationError(f"--status {status!r}: expected one of {', '.join(STATUSES)} or all")
    reactions = store.reactions(None if status == "all" else status)
    for reaction in reactions:
        excerpt = " ".join(reaction.text.split())
        if len(excerpt) > EXCERPT_LENGTH:
            excerpt = excerpt[:EXCERPT_LENGTH - 1] + "…"
        print(f"{reaction.id}  {reaction.created_at:%Y-%m-%d %H:%M}  {reaction.status:<8}  "
              f"{reaction.article}  {reaction.author}: {excerpt}", file=out)
    counts = store.reaction_counts()
    print(f"{len(reactions)} reaction(s){'' if status == 'all' else ' ' + status}; in all: "
          + (", ".join(f"{counts[key]} {key}" for key in STATUSES if counts.get(key)) or "none"),
          file=out)
    return OK


def show(store: Store, out: TextIO, reaction: Reaction) -> int:
    notify = {"": "off (not asked, or stopped)", "pending": "asked, not confirmed yet",
              "confirmed": "on"}.get(reaction.notify, reaction.notify)
    lines = [
        f"Reaction   {reaction.id} ({reaction.status})",
        f"Article    {reaction.article}",
        f"Answers    {reaction.parent or '- (the article)'}",
        f"Name       {reaction.author}",
        f"Website    {reaction.author_url or '-'}",
        f"Sent       {reaction.created_at:%Y-%m-%d %H:%M} UTC",
        f"Notify     {notify}",
    ]
    if reaction.file:
        lines.append(f"File       {reaction.file}")
    print("\n".join(lines) + "\n\n" + (reaction.text or "(text forgotten)"), file=out)
    return OK


def approve(config: ServiceConfig, store: Store, out: TextIO, reaction: Reaction) -> int:
    """Publish a pending reaction, rebuild, then queue the notification of a reply.

    The notification waits for the rebuild, so that its link shows the reply. Approving
    an approved reaction again queues a notification that is still missing (after a
    failed rebuild, or a crash) and does nothing else.
    """
    if reaction.status not in (AWAITING, APPROVED):
        raise ModerationError(f"{reaction.id} is {reaction.status}; only a pending reaction "
                              "can be approved")
    site = load_site(config.reaction_pages_path / MANIFEST_FILE)
    if reaction.status == AWAITING:
        publish(config, store, out, reaction)
        rebuild(config, out)
    else:
        print(f"{reaction.id} was approved before: {reaction.file}", file=out)
    if store.queue_notifications(reaction.id, notifications(config, store, site, reaction),
                                 utcnow()):
        print("The commenter it answers asked to hear of replies: the service mails them.",
              file=out)
    return OK


def publish(config: ServiceConfig, store: Store, out: TextIO, reaction: Reaction) -> None:
    """Write the comment file and mark the reaction approved."""
    relative = f"{config.comments_folder}/{reaction.article}/{reaction.id}.md"
    report = Report(source="site", input_path="invoke reactions approve")
    content = ContentStore(config.content_path, report)
    outcome = content.put(ContentStore.key(SOURCE, "comment", reaction.id), relative,
                          comment_file(reaction))
    content.save()
    if outcome not in (CREATED, UNCHANGED):
        raise ModerationError(f"{config.content_path / relative}: {outcome}; nothing approved. "
                              "Move that file away, or approve again once it is sorted out")
    path = os.path.relpath(config.content_path / relative)
    if not store.approve_reaction(reaction.id, path, utcnow()):
        raise ModerationError(f"{reaction.id} was decided by someone else meanwhile")
    print(f"Approved {reaction.id}: wrote {path}; it shows after the next build. Commit it, "
          "with content/.migrate/state.json, as any content.", file=out)


def notifications(config: ServiceConfig, store: Store, site, reply: Reaction) -> list:
    """(subscriber, message) for the commenter ``reply`` answers, if they asked and confirmed."""
    if not reply.parent:
        return []
    watcher = store.reply_watcher(reply.parent, reply.id)
    if watcher is None:
        return []
    article = site.article(reply.article) or {}
    # The links go to the service that took the reaction, whatever settings run this.
    base = reply.service_url or config.site_url
    url = absolute_url(str(article.get("url") or "/"), base)
    link = stop_url(config, reply.parent, base)
    subject, text = site.mail("notification", author=reply.author,
                              title=article.get("title", reply.article),
                              url=f"{url}#reactie-{reply.id}", text=quoted(reply.text),
                              stop_link=link)
    return [(watcher, message(config, watcher.email, subject, text, unsubscribe_url=link,
                              list_id=f"reacties.{config.host}"))]


def rebuild(config: ServiceConfig, out: TextIO) -> None:
    """Run REACTIONS_REBUILD_COMMAND, if set, in the site's folder."""
    if not config.rebuild_command:
        return
    command = shlex.split(config.rebuild_command)
    folder = config.settings_file.parent if config.settings_file else Path.cwd()
    print(f"Rebuilding: {config.rebuild_command}", file=out, flush=True)
    try:
        finished = subprocess.run(command, cwd=folder, check=False)
    except OSError as error:
        raise ModerationError(f"REACTIONS_REBUILD_COMMAND {config.rebuild_command!r} cannot run: "
                              f"{error.strerror or error}; {AFTER_FAILED_REBUILD}") from error
    if finished.returncode:
        raise ModerationError(f"REACTIONS_REBUILD_COMMAND exited with {finished.returncode}; "
                              f"{AFTER_FAILED_REBUILD}")


def decline(store: Store, out: TextIO, reaction: Reaction, status: str) -> int:
    if reaction.status == status:
        print(f"{reaction.id} is {status} already.", file=out)
        return OK
    if reaction.status != AWAITING:
        raise ModerationError(f"{reaction.id} is {reaction.status}; only a pending reaction "
                              f"can be marked {status}"
                              + (f" (remove {reaction.file} to take it off the site)"
                                 if reaction.file else ""))
    if not store.decline_reaction(reaction.id, status, utcnow()):
        raise ModerationError(f"{reaction.id} was decided by someone else meanwhile")
    print(f"{reaction.id}: {status}; its text and its writer's address are forgotten.", file=out)
    return OK


def run(action: str, settings_file: str | os.PathLike = "publishconf.py", reaction_id: str = "",
        status: str = AWAITING) -> int:
    """Run one ``invoke reactions`` action; return the exit code (0 is done)."""
    if action not in ACTIONS:
        print(f"reactions: unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
              file=sys.stderr)
        return USAGE
    if action != "list" and not reaction_id:
        print(f"reactions {action}: which reaction? invoke reactions {action} -r <id>",
              file=sys.stderr)
        return USAGE
    store = None
    try:
        config = load_config(settings_file)
        if not config.reactions_endpoint:
            raise ModerationError("REACTIONS_ENDPOINT is empty: this site takes no reactions")
        store = open_store(config.database_url, create=False)
        if action == "list":
            return list_reactions(store, sys.stdout, status)
        reaction = store.reaction(reaction_id)
        if reaction is None:
            raise ModerationError(f"no reaction {reaction_id!r}; invoke reactions list shows "
                                  "the pending ones")
        if action == "show":
            return show(store, sys.stdout, reaction)
        if action == "approve":
            return approve(config, store, sys.stdout, reaction)
        return decline(store, sys.stdout, reaction, REJECTED if action == "reject" else SPAM)
    # ValueError: the writer's state in content/.migrate is damaged.
    except (ModerationError, AdminError, StoreError, SiteNotBuilt, CannotMail,
            ValueError) as error:
        print(f"reactions {action}: {error}", file=sys.stderr)
        return FAILED
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"reactions {action}: {where}{error.strerror or error}", file=sys.stderr)
        return FAILED
    finally:
        if store is not None:
            store.close()
