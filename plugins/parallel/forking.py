"""What a forked child of the build may rely on."""

import gc
import logging
import sys
import threading


def forking_is_safe() -> bool:
    """Whether this process has no threads but Pelican's progress spinner.

    A forked child has only the forking thread, and a lock another thread held stays
    held in the child. Rich's spinner only holds the console's, which the children
    do not use (``settle_child``); any other thread (a server in a test run) makes
    the build serial.
    """
    return all(thread is threading.main_thread() or type(thread).__module__.startswith("rich.")
               for thread in threading.enumerate())


def settle_child(level: int | None = None) -> None:
    """First thing in a forked child.

    The collector leaves the parent's objects alone: walking them would copy every
    page of the parent's memory into the child. And logging goes to stderr
    directly, not through Pelican's Rich console, whose lock the spinner may have
    held when the build forked.
    """
    gc.freeze()
    root = logging.getLogger()
    if level is not None:
        root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    plain = logging.StreamHandler(sys.stderr)
    plain.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(plain)
