"""Atomic file writes: write a temporary file beside the target, flush it to disk, rename it.

A crash (even SIGKILL) at any moment leaves either the previous file or the new one, never a
half-written file under the target's name.
"""
from __future__ import annotations

import os
import secrets
import shutil


def temporary_sibling(target: str) -> str:
    """Creates an empty file next to ``target`` (same directory, so ``os.replace`` is atomic)
    with the permissions a plain ``open(target, "w")`` would give."""
    directory, base = os.path.split(target)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def fsync_path(path: str, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, writer) -> None:
    """Calls ``writer(tmp_path)`` to write the whole file, then moves it to ``path``."""
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        # NOTE: as Keras, saving does not create folders; say which one is missing (not the
        # hidden temporary file the OS would name).
        raise FileNotFoundError(
            f"Cannot save to {os.fspath(path)!r}: the folder {directory!r} does not exist. "
            f"Create it first, e.g. os.makedirs({os.path.dirname(os.fspath(path))!r}, "
            "exist_ok=True).")
    tmp = temporary_sibling(target)
    try:
        writer(tmp)
        fsync_path(tmp)
        if os.path.exists(target):
            try:
                shutil.copymode(target, tmp)
            except OSError:
                pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    fsync_path(os.path.dirname(target) or ".", directory=True)
