"""Folders and files only their owner may read: dwtui's state, its audit trail, its config.

The audit trail names users, SQL logins and device-code user codes; the operations file names
environments. New folders are made 0700 and new files 0600 whatever the umask (a chmod after
creating, as the umask can only take bits away from what os.open and mkdir are given), and what an
earlier version (or another tool) left readable by others is made private when dwtui starts.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a folder: made 0700 when it is created here (its missing parents get the default)."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)
            os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path, flags: int) -> int:
    """os.open(path, flags) of a file that is 0600 afterwards, whether new or already there."""
    descriptor = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(descriptor).st_mode) != FILE_MODE:
            os.fchmod(descriptor, FILE_MODE)  # O_CREAT's mode does not apply to an existing file
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def replace_private(path: Path, data: bytes) -> None:
    """`path` holds `data`, whole or not at all, readable by its owner only (a new folder is 0700).

    A temporary file in the same folder, then a rename: a crash never leaves half a file, and
    mkstemp creates it 0600 from the start, so no other user can open it in between.
    """
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())  # the new text is on disk before it replaces the old
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def make_private(path: Path, mode: int) -> str | None:
    """Take group and other permissions off `path` if it is ours; a line saying so when it changed."""
    try:
        info = path.lstat()
    except OSError:
        return None  # absent: nothing to fix
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return None  # not ours to change (a link's target may be anyone's)
    current = stat.S_IMODE(info.st_mode)
    if not current & 0o077:
        return None
    try:
        os.chmod(path, mode)
    except OSError as error:
        return f"could not make {path} private ({error.strerror or error}); it is {current:04o}"
    return f"made {path} private: it was {current:04o}, now {mode:04o}"


def make_private_all(folder: Path, files: Iterable[Path] = ()) -> list[str]:
    """`folder` 0700 and every file directly in it 0600, plus `files` elsewhere; what changed."""
    notes = [make_private(folder, DIR_MODE)]
    with contextlib.suppress(OSError):
        notes.extend(make_private(child, FILE_MODE) for child in sorted(folder.iterdir()) if child.is_file())
    notes.extend(make_private(path, FILE_MODE) for path in files)
    return [note for note in notes if note is not None]
