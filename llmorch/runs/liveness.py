"""Who is writing a run, and whether that writer still lives: how a run whose process was killed
(kill -9, power loss) is told apart from one still going, without any cleanup job."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Writer:
    pid: int
    host: str
    boot_id: str
    process_start: str


def _boot_id() -> str:
    """Changes at every boot, so a pid from before a reboot never counts as alive."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 (state) on; empty where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name (field 2) may hold spaces and parentheses; the fields after it are plain.
    return stat.rpartition(")")[2].split()


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot: tells a reused pid from the original."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


@cache
def _writer(pid: int) -> Writer:
    return Writer(pid, socket.gethostname(), _boot_id(), _process_start(pid))


def this_writer() -> Writer:
    """This process (looked up once per pid: a forked child is a writer of its own)."""
    return _writer(os.getpid())


def is_gone(writer: Writer) -> bool:
    """True when the writer certainly died; a writer on another host is never judged from here."""
    if writer.host != socket.gethostname():
        return False
    if writer.boot_id and writer.boot_id != _boot_id():
        return True
    try:
        os.kill(writer.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, owned by someone else
    fields = _stat(writer.pid)
    if not fields:
        return False
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return True
    return bool(writer.process_start and fields[19] != writer.process_start)
