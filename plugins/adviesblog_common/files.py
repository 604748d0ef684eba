"""Writing files whole: a reader sees the old file or the new one, never half of one."""

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path


def write_atomically(path: str | os.PathLike, data: bytes | str | Iterable[str]) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    ``data`` is bytes, text (written as UTF-8) or an iterable of text chunks, so a
    large file can be generated as it is written. The file gets mode 0644 (less the
    umask), and folders are made as needed. The temporary name carries the process
    id, so two processes writing the same file cannot mix their bytes.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        descriptor = os.open(temporary, flags, 0o644)
    except FileNotFoundError:  # a new folder; rarer than an existing one
        os.makedirs(folder or ".", exist_ok=True)
        descriptor = os.open(temporary, flags, 0o644)
    try:
        with open(descriptor, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                for chunk in [data] if isinstance(data, str) else data:
                    handle.write(chunk.encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def place_cached(cached: str | os.PathLike, target: str | os.PathLike) -> None:
    """Make ``target`` the file ``cached`` from a build cache: a hard link, else a copy.

    Atomic like ``write_atomically``. A target that already is that file is left
    alone; a copy (across file systems) gets mode 0644.
    """
    cached, target = os.fspath(cached), os.fspath(target)
    try:
        if os.path.samefile(cached, target):
            return
    except FileNotFoundError:
        pass
    folder, name = os.path.split(target)
    os.makedirs(folder or ".", exist_ok=True)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        try:
            os.link(cached, temporary)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(cached, temporary)
            os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def build_beside(live: str | os.PathLike, build: Callable[[Path], None]) -> None:
    """Run ``build`` into a fresh folder beside ``live``, then swap it into ``live``'s place.

    A failed build leaves ``live`` as it was; a web server reading ``live`` meanwhile
    sees the old site or the new one, never a half-built one.
    """
    live = Path(live).resolve()
    fresh, previous = live.with_name(f"{live.name}.next"), live.with_name(f"{live.name}.old")
    for folder in (fresh, previous):
        shutil.rmtree(folder, ignore_errors=True)
    try:
        build(fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if live.exists():
        live.rename(previous)
    fresh.rename(live)
    shutil.rmtree(previous, ignore_errors=True)
