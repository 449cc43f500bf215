"""Who this process is, and the guard against two instances on one SQLite file."""

from __future__ import annotations

import fcntl
import os
import socket
import uuid

from storage.location import sqlite_path

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class AlreadyRunning(SystemExit):
    pass


def lock_sqlite(url: str):
    """Hold an exclusive lock next to a SQLite file for the life of the process.

    SQLite cannot share one file between dutybot instances safely (no SKIP LOCKED, one
    writer at a time, and each would run its own scheduler), so a second one refuses to
    start with a clear message. The kernel drops the lock when the process dies, kill -9
    included, so a crash never leaves a stale lock behind.
    """
    db_file = sqlite_path(url)
    if db_file is None:
        return None
    path = db_file.with_suffix(db_file.suffix + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")  # noqa: SIM115 -- held open (and locked) for the life of the process
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        other = fh.read().strip() or "another process"
        fh.close()
        raise AlreadyRunning(
            f"dutybot is already running on {db_file} ({other}). SQLite allows one instance; "
            "stop it first, or use PostgreSQL to run several."
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}")
    fh.flush()
    return fh
