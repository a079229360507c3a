"""Reading a file a person named (config, certificate, CA bundle): a regular file of bounded size.

`--config /dev/zero` read without end, a FIFO blocked the open for ever, and a huge file would be
read whole. So a path must name a regular file, is opened without blocking, and is read up to a
limit; anything else is one clear error naming the path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB


class FileProblem(OSError):
    """A file that cannot be used, with a message a person can act on (`str()` is that message)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(path: Path, *, limit: int) -> int:
    """The file's size, after checking it is a regular file no larger than `limit` (without opening it)."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(path, f"is {_kind(info.st_mode)}, not a file")
    if info.st_size > limit:
        raise FileProblem(path, f"is {info.st_size:,} bytes; the most dwtui reads is {limit:,}")
    return info.st_size


def read_limited(path: Path, *, limit: int) -> bytes:
    """The whole of a regular file of at most `limit` bytes.

    Opened with O_NONBLOCK so a FIFO cannot block the open; checked on the open descriptor, so a
    file swapped after a check is still refused; read to at most `limit` + 1 bytes, so a file that
    grows while it is read is refused rather than read without end. FileNotFoundError and the other
    OSErrors of the open itself reach the caller unchanged.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(path, f"is {_kind(info.st_mode)}, not a file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileProblem(path, f"is larger than {limit:,} bytes, the most dwtui reads")
    return data
