"""The article generator's pages rendered by two processes.

Rendering is most of writing a site, and Pelican renders one page after another.
When the article generator starts writing, the build forks. Both processes then
go through the generator's pages (the articles, the archives, the tag, category and
author pages, the direct templates) and make the same calls in the same order,
with the very same site in memory. ``WritingSplit.owner`` gives
each call to one of them by the number of pages it renders, in the same way on both
sides. The child renders its calls and sends each page back through a pipe; it writes
none of them and sends no signal. Pelican's process renders its own calls and writes
the child's pages through Pelican's own writer, so file names, "already written"
checks, signals and the sitemap are those of a serial build. The child never returns
into Pelican (``write_pages``): it ends with os._exit, whatever happens.

If a page from the child is not the one Pelican is about to write, or the child
failed, stopped, or had a warning to log, Pelican's process renders that page and
every later one itself, so errors and warnings read as in a serial build.

(Running the feeds and the email editions in the child after its pages was tried
and measured: the child then finished about 0.15 s later than Pelican's process
does that work itself at N=1000, so they stay in Pelican's process.)
"""

import logging
import math
import os
import queue
import sys
import threading
import weakref
from multiprocessing.connection import Pipe

from pelican.writers import Writer

from .forking import settle_child

logger = logging.getLogger(__name__)

CONTEXT_KEY = "_parallel_writing"
PARENT, CHILD = 0, 1
# Frames through the pipe: a page ("<output file>\0<html>"), or the end.
PAGE, END = b"P", b"E"


def pages_of_write(settings, template_name, paginated, kwargs) -> int:
    """How many pages one ``write_file`` call renders, as Pelican paginates it."""
    if paginated is None:
        paginated = {key: value for key, value in kwargs.items() if key in ("articles", "dates")}
    if not paginated or template_name not in settings["PAGINATED_TEMPLATES"]:
        return 1
    per_page = settings["PAGINATED_TEMPLATES"][template_name] or settings["DEFAULT_PAGINATION"]
    if not per_page:
        return 1
    return max(1, math.ceil(len(next(iter(paginated.values()))) / per_page))


class WritingSplit:
    """One side of the split; both decide the owner of every call in the same way."""

    def __init__(self):
        # Pages rendered by each side so far.
        self._loads = [0, 0]
        self.stopped = False
        receiving, sending = Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        parent = os.getpid()
        self.child = os.fork()
        self.in_child = self.child == 0
        if self.in_child:
            receiving.close()
            self._connection = sending
            self.log = settle_child(parent)
            return
        sending.close()
        self._frames = queue.SimpleQueue()
        # The child must not wait for Pelican's process to come to its pages: a
        # thread takes them from the pipe as they come.
        self._receiver = threading.Thread(target=self._receive, args=(receiving,),
                                          name="parallel-pages", daemon=True)
        self._receiver.start()
        self._connection = receiving
        self._reap = weakref.finalize(self, reap, receiving, self.child)

    def owner(self, pages: int) -> int:
        who = CHILD if self._loads[CHILD] < self._loads[PARENT] else PARENT
        self._loads[who] += pages
        return who

    # --- the child ---------------------------------------------------------------
    def send(self, output_file: str, html: str) -> None:
        if self.log.warned:
            # Pelican's process renders this page again and logs the warning.
            raise ChildWarned
        self._connection.send_bytes(PAGE + output_file.encode() + b"\0" + html.encode())

    def run_child(self, generator, writer) -> None:
        """The child's whole life: its share of the pages."""
        status = 1
        try:
            generator.generate_pages(writer)
            self._connection.send_bytes(END)
            self._connection.close()
            status = 0
        finally:
            os._exit(status)

    # --- Pelican's process -----------------------------------------------------------
    def _receive(self, connection):
        try:
            while True:
                frame = connection.recv_bytes()
                self._frames.put(frame)
                if frame == END:
                    return
        except Exception:
            # The child is gone, or Pelican's process closed the pipe (abandon): no
            # more pages come, and whoever waits for one renders it itself.
            self._frames.put(END)

    def rendered(self, output_file: str):
        """The child's HTML of ``output_file``, or None when the child did not make it."""
        if self.stopped:
            return None
        frame = self._frames.get()
        sent_file, separator, html = frame[1:].partition(b"\0")
        if frame[:1] != PAGE or not separator or \
                os.path.normpath(sent_file.decode()) != os.path.normpath(output_file):
            self.stopped = True
            return None
        return html.decode()

    def finish(self, abandon: bool = False) -> None:
        """Reap the child: after its last page, or at once when Pelican failed."""
        self.stopped = True
        self._reap.detach()
        if abandon:
            # Closing the pipe stops a child still sending.
            self._connection.close()
        self._receiver.join()
        if reap(self._connection, self.child):
            logger.debug("parallel: the child stopped early; the rest was rendered here")


def reap(connection, child: int) -> int:
    """Close the pipe, which stops a child still sending, and wait for it; its status."""
    connection.close()
    return os.waitpid(child, 0)[1]


class ChildWarned(Exception):
    """The child had something to log: Pelican's process does this work again."""


def write_pages(generator, writer, split: WritingSplit | None, write_output) -> None:
    """``generator.generate_output(writer)`` with its pages shared with the child.

    The child only goes through ``generate_pages`` (the feeds and the signal at the
    end are Pelican's process's) and never comes back from here: os._exit skips the
    parent's exit handlers and finalizers, which would stop Pagefind.
    """
    if split is None:
        write_output(writer)
        return
    if split.in_child:
        split.run_child(generator, writer)
    try:
        write_output(writer)
    except BaseException:
        split.finish(abandon=True)
        raise
    split.finish()


class FromChild:
    """A template whose pages the child renders; Pelican's process renders what it lacks."""

    def __init__(self, template, split: WritingSplit):
        self._template, self._split = template, split

    def render(self, localcontext):
        html = self._split.rendered(localcontext["output_file"])
        return self._template.render(localcontext) if html is None else html


class ToParent:
    """The child's stand-in for an output file: the page goes to the pipe."""

    def __init__(self, split: WritingSplit, output_file: str):
        self._split, self._output_file, self._parts = split, output_file, []

    def __enter__(self):
        return self

    def write(self, text: str) -> None:
        self._parts.append(text)

    def __exit__(self, *exc_info):
        if exc_info[0] is None:
            self._split.send(self._output_file, "".join(self._parts))


class SplitWriter(Writer):
    """Pelican's writer, sharing the article generator's pages with the child."""

    child_split = None

    def write_file(self, name, template, context, relative_urls=False, paginated=None,
                   template_name=None, override_output=False, url=None, **kwargs):
        split = context.get(CONTEXT_KEY)
        if split is None or not name:
            return super().write_file(name, template, context, relative_urls, paginated,
                                      template_name, override_output, url, **kwargs)
        who = split.owner(pages_of_write(self.settings, template_name, paginated, kwargs))
        if split.in_child:
            if who == PARENT:
                return None
            # An error ends the child (write_pages); Pelican's process then renders
            # this call itself and reports it.
            self.child_split = split
            return super().write_file(name, template, context, relative_urls, paginated,
                                      template_name, override_output, url, **kwargs)
        if who == CHILD:
            template = FromChild(template, split)
        return super().write_file(name, template, context, relative_urls, paginated,
                                  template_name, override_output, url, **kwargs)

    def _open_w(self, filename, encoding, override=False):
        if self.child_split is None:
            return super()._open_w(filename, encoding, override)
        return ToParent(self.child_split, os.path.relpath(filename, self.output_path))
