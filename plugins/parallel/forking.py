"""What a forked child of the build may rely on."""

import ctypes
import gc
import logging
import os
import signal
import threading

# From <sys/prctl.h>.
PR_SET_PDEATHSIG = 1


def forking_is_safe() -> bool:
    """Whether this process has no threads but Pelican's progress spinner.

    A forked child has only the forking thread, and a lock another thread held stays
    held in the child. Rich's spinner only holds the console's, which the children
    do not use (``settle_child``); any other thread (a server in a test run) makes
    the build serial.
    """
    return all(thread is threading.main_thread() or type(thread).__module__.startswith("rich.")
               for thread in threading.enumerate())


class ChildLog(logging.Handler):
    """In a forked child: notes a warning or an error instead of printing it.

    A child that has something to say stops, and Pelican's process does that piece
    of work again itself: it then logs the message as a serial build would, through
    its own handlers (counted, fatal with ``--fatal``, shown once).
    """

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.warned = False

    def emit(self, record):
        self.warned = True


def die_with_parent(parent: int) -> None:
    """Have the kernel end this forked process when its parent ends (Linux).

    A build stopped with SIGTERM runs no cleanup; its children must not live on.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pipes still end the children
        pass
    if os.getppid() != parent:  # the parent ended before the call above
        os._exit(1)


def settle_child(parent: int) -> ChildLog:
    """First thing in a forked child.

    The collector leaves the parent's objects alone: walking them would copy every
    page of the parent's memory into the child. And nothing goes through Pelican's
    Rich console, whose lock the spinner may have held when the build forked.
    """
    die_with_parent(parent)
    gc.freeze()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    log = ChildLog()
    root.addHandler(log)
    return log
