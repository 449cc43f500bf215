"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, out: Path) -> None:
    """Write a consistent copy of the database to `out` (safe while dutybot runs)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        src = sqlite3.connect(u.database)
        dst = sqlite3.connect(out)
        with dst:
            src.backup(dst)  # page-by-page online copy; consistent even with WAL writers
        src.close()
        dst.close()
        return
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={out}", _libpq_url(url)])


def restore(url: str, backup_file: Path) -> None:
    """Replace the database's contents with `backup_file` (stop dutybot first)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        target = Path(u.database)
        check = sqlite3.connect(backup_file)
        check.execute("PRAGMA integrity_check").fetchone()
        check.close()
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        shutil.copyfile(backup_file, target)
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_libpq_url(url)}", str(backup_file)])


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"{cmd[0]} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {result.stderr.strip()[-500:]}")
