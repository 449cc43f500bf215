"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A restore first proves the file is a dutybot database this code can read (integrity, an
`alembic_version` this code knows, the core tables) and keeps a safety copy of what it
replaces; a wrong file changes nothing. Backup files are created 0600 (they hold every
name and chat id), and a PostgreSQL password never appears on a command line (`ps` shows
those to every user): it goes to pg_dump/pg_restore through PGPASSWORD.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from workflows.clock import utc_now

# Tables every dutybot database has had since the first revision; a file without them is not one.
CORE_TABLES = frozenset({"agency", "user", "identity", "event", "task", "auditentry", "outbox", "inboundupdate"})


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


@dataclass
class Restored:
    revision: str
    safety_copy: Path | None  # the database as it was before the restore (None: there was none)


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    return {s.revision for s in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def _stamp() -> str:
    return utc_now().strftime("%Y%m%dT%H%M%SZ")


def _private_file(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file readable by its owner only (mkstemp creates it 0600)."""
    if not folder.is_dir():
        raise BackupError(f"folder {folder} does not exist")
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)


# -- backup ---------------------------------------------------------------------------------
def backup(url: str, out: Path) -> None:
    """Write a consistent copy of the database to `out` (safe while dutybot runs), mode 0600."""
    out = Path(out)
    if out.is_dir():
        raise BackupError(f"{out} is a folder; give a file name")
    tmp = _private_file(out.parent if str(out.parent) else Path("."), f".{out.name}.", ".part")
    try:
        _backup_to(url, tmp)
        os.replace(tmp, out)  # a failed backup never leaves a half-written file under the real name
    finally:
        tmp.unlink(missing_ok=True)


def _backup_to(url: str, out: Path) -> None:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        src = sqlite3.connect(f"file:{u.database}?mode=ro", uri=True)
        dst = sqlite3.connect(out)
        try:
            with dst:
                src.backup(dst)  # page-by-page online copy; consistent even with WAL writers
        except sqlite3.Error as exc:
            raise BackupError(f"cannot read the database {u.database}: {exc}") from None
        finally:
            src.close()
            dst.close()
        return
    _pg(["pg_dump", "--format=custom", "--no-owner", f"--file={out}"], url)


# -- restore --------------------------------------------------------------------------------
def restore(url: str, backup_file: Path) -> Restored:
    """Replace the database's contents with `backup_file` (stop dutybot first).

    Refuses (BackupError, nothing changed) unless the file is a dutybot database this code
    can read; keeps a safety copy of the database it replaces."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"no backup file {backup_file}")
    if make_url(url).get_backend_name() == "sqlite":
        return _restore_sqlite(url, backup_file)
    return _restore_pg(url, backup_file)


def _check(revision: str | None, tables: set[str], name: Path) -> str:
    if "alembic_version" not in tables or not revision:
        raise BackupError(f"{name} is not a dutybot backup (no schema version)")
    missing = CORE_TABLES - tables
    if missing:
        raise BackupError(f"{name} is not a dutybot backup (no table {', '.join(sorted(missing))})")
    if revision not in known_revisions():
        raise BackupError(f"{name} is from a newer dutybot (schema {revision}); upgrade dutybot first")
    return revision


def _restore_sqlite(url: str, backup_file: Path) -> Restored:
    target = Path(make_url(url).database or "")
    try:
        src = sqlite3.connect(f"file:{backup_file.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {backup_file}: {exc}") from None
    try:
        try:
            tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            result = [r[0] for r in src.execute("PRAGMA integrity_check")]
            revision = (
                (src.execute("SELECT version_num FROM alembic_version").fetchone() or [None])[0]
                if "alembic_version" in tables
                else None
            )
        except sqlite3.DatabaseError as exc:  # a text file: "file is not a database"
            raise BackupError(f"{backup_file} is not a SQLite database ({exc})") from None
        if result != ["ok"]:
            raise BackupError(f"{backup_file} is damaged (integrity check: {result[0]})")
        known = _check(revision, tables, backup_file)
        safety = None
        if target.is_file() and target.stat().st_size > 0:
            safety = _private_file(target.parent, f"{target.stem}.before-restore-{_stamp()}.", target.suffix or ".db")
            try:
                _backup_to(url, safety)
            except BaseException:
                safety.unlink(missing_ok=True)
                raise
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # in one transaction, through SQLite, so the target's WAL stays coherent
        except sqlite3.Error as exc:
            raise BackupError(f"cannot write {target}: {exc}") from None
        finally:
            dst.close()
        return Restored(known, safety)
    finally:
        src.close()


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", re.M)


def _restore_pg(url: str, backup_file: Path) -> Restored:
    toc = _pg(["pg_restore", "--list", str(backup_file)], None, what=f"{backup_file} is not a pg_dump archive")
    tables = set(_TOC_TABLE.findall(toc))
    revision = None
    if "alembic_version" in tables:
        sql = _pg(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(backup_file)], None)
        found = re.search(r"^COPY \S*alembic_version .*? FROM stdin;\n([^\n\\]+)\n", sql, re.M)
        revision = found.group(1).strip() if found else None
    known = _check(revision, tables, backup_file)
    folder = backup_file.resolve().parent
    safety = _private_file(folder, f"dutybot.before-restore-{_stamp()}.", ".dump")
    try:
        _backup_to(url, safety)
    except BaseException:
        safety.unlink(missing_ok=True)
        raise
    _pg_replace(url, backup_file)
    return Restored(known, safety)


def _pg_replace(url: str, backup_file: Path) -> None:
    """Empty the schema and load the archive in ONE transaction (psql --single-transaction):
    a restore that fails half-way leaves the database as it was. Emptying the whole schema,
    not only the archive's tables (`pg_restore --clean`), lets a backup from an older release
    replace a newer schema whose extra tables point at the archive's (then it is upgraded)."""
    for tool in ("pg_restore", "psql"):
        if shutil.which(tool) is None:
            raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    env, conninfo = _pg_env(url)
    sql = subprocess.Popen(
        ["pg_restore", "--no-owner", "--no-privileges", "--file=-", str(backup_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    psql = subprocess.Popen(
        [
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={conninfo}",
            "--file=-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert sql.stdout is not None and sql.stderr is not None and psql.stdin is not None and psql.stderr is not None
    try:
        psql.stdin.write(b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
        shutil.copyfileobj(sql.stdout, psql.stdin, 1 << 20)
    except BrokenPipeError:  # psql stopped at an error: its stderr says which
        sql.kill()
    finally:
        try:
            psql.stdin.close()
        except BrokenPipeError:
            pass
    dump_err = sql.stderr.read().decode(errors="replace")
    psql_err = psql.stderr.read().decode(errors="replace")
    sql.wait()
    psql.wait()
    if sql.returncode != 0 or psql.returncode != 0:
        detail = " ".join((psql_err if psql.returncode != 0 else dump_err).split())[-300:]
        raise BackupError(f"restore failed and was rolled back: {detail}")


# -- running the PostgreSQL tools without the password on their command line ----------------
def _pg(cmd: list[str], url: str | None, *, what: str | None = None) -> str:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (Debian: apt-get install postgresql-client)")
    env = dict(os.environ)
    if url is not None:
        env, conninfo = _pg_env(url)
        cmd = [*cmd[:1], f"--dbname={conninfo}", *cmd[1:]]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[-300:]
        raise BackupError(f"{what}: {detail}" if what else f"{cmd[0]} failed: {detail}")
    return result.stdout


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    """The environment (PGPASSWORD) and the password-free URL for a PostgreSQL tool."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password is not None:
        env["PGPASSWORD"] = str(u.password)
    conninfo = URL.create(
        "postgresql", username=u.username, host=u.host, port=u.port, database=u.database, query=u.query
    ).render_as_string(hide_password=False)
    return env, conninfo
