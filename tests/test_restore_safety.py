"""`db backup` / `db restore` as an operator uses them: a wrong file changes nothing, the
database replaced is kept, backups are private, and no password reaches a command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from storage.db import Database
from tests.helpers import seed_event

needs_pg_tools = pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")


@pytest.fixture
def env(app, monkeypatch, tmp_path):
    """The CLI pointed at the test database (SQLite or PostgreSQL), with one event in it."""
    if not app.db.is_sqlite and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    monkeypatch.setenv("DUTYBOT_STORAGE__URL", app.db.url)
    monkeypatch.chdir(tmp_path)
    seed_event(app)
    app.db.dispose()
    return app


def _events(url: str) -> list[int]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT id FROM event ORDER BY id"))]
    finally:
        db.dispose()


def _files(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if not n.endswith((".lock", "-wal", "-shm")))


def _foreign_sqlite(path: Path, *, with_version: str | None = None) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    if with_version:
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        con.execute("INSERT INTO alembic_version VALUES (?)", (with_version,))
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("kind", ["empty", "text", "foreign", "too_new"])
def test_restore_of_a_wrong_file_exits_1_with_one_line_and_changes_nothing(env, tmp_path, capsys, kind):
    bad = tmp_path / f"{kind}.bin"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("this is not a database\n" * 50)
    elif kind == "foreign":
        _foreign_sqlite(bad)
    else:  # a dutybot backup from a newer release: a schema revision this code does not know
        good = tmp_path / "good.bin"
        assert main(["db", "backup", "--out", str(good)]) == 0
        if env.db.is_sqlite:
            shutil.copyfile(good, bad)
            con = sqlite3.connect(bad)
            con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
            con.commit()
            con.close()
        else:  # dump the live database with its revision changed for the moment, then put it back
            db = Database(env.db.url)
            with db.engine.begin() as conn:
                real = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
                conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
            assert main(["db", "backup", "--out", str(bad)]) == 0
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": real})
            db.dispose()
            good.unlink()
    capsys.readouterr()
    before = _files(tmp_path)
    code = main(["db", "restore", str(bad)])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "usage" not in err
    assert "nothing was changed" in err
    assert _events(env.db.url) == [1]
    assert _files(tmp_path) == before  # no safety copy left behind by a refusal


def test_restore_keeps_a_private_safety_copy_of_the_database_it_replaces(env, tmp_path, capsys):
    out = tmp_path / "b.bin"
    assert main(["db", "backup", "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    seed_event(env)  # a second event, made after the backup
    env.db.dispose()
    capsys.readouterr()
    assert main(["db", "restore", str(out)]) == 0
    printed = capsys.readouterr().out
    assert _events(env.db.url) == [1]
    kept = Path(next(line for line in printed.splitlines() if "kept in" in line).split("kept in ", 1)[1])
    assert kept.is_file() and stat.S_IMODE(kept.stat().st_mode) == 0o600
    # the safety copy is itself a good backup: restoring it brings the second event back
    assert main(["db", "restore", str(kept)]) == 0
    assert _events(env.db.url) == [1, 2]


def test_backup_to_a_missing_folder_is_one_line_and_exit_1(env, tmp_path, capsys):
    code = main(["db", "backup", "--out", str(tmp_path / "no" / "such" / "b.bin")])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "does not exist" in err
    assert "usage" not in err


def test_a_text_file_through_the_real_command_gives_no_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    exe = Path(sys.executable).with_name("dutybot")
    result = subprocess.run(
        [str(exe), "db", "restore", str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "DUTYBOT_STORAGE__URL": url},
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "not a SQLite database" in result.stderr


@needs_pg_tools
def test_pg_tools_never_see_the_password_on_their_command_line(monkeypatch, tmp_path):
    """The password goes through PGPASSWORD; the argv (visible in `ps`) has none."""
    import storage.backup as b

    seen = []

    def fake_run(cmd, **kw):
        seen.append((cmd, kw.get("env") or {}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(b.subprocess, "run", fake_run)
    b.backup("postgresql+psycopg://dutybot:s3cr3t-pw@127.0.0.1:5432/dutybot", tmp_path / "x.dump")
    cmd, env = seen[0]
    assert cmd[0] == "pg_dump" and not any("s3cr3t-pw" in part for part in cmd)
    assert env["PGPASSWORD"] == "s3cr3t-pw"
    assert any(part.startswith("--dbname=postgresql://dutybot@127.0.0.1:5432/dutybot") for part in cmd)


def test_a_backup_from_an_older_release_replaces_a_newer_schema_and_is_upgraded(env, tmp_path, capsys):
    """Restoring last month's backup after an upgrade: the newer tables (which point at the
    backup's) must not block the restore; the schema is then brought up to date."""
    from alembic import command

    from storage.migrate import alembic_config, current, head

    db = Database(env.db.url)
    cfg = alembic_config(env.db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    older = current(db)
    db.dispose()
    out = tmp_path / "older.bin"
    assert main(["db", "backup", "--out", str(out)]) == 0
    assert main(["db", "upgrade"]) == 0
    seed_event(env)
    env.db.dispose()
    capsys.readouterr()
    code = main(["db", "restore", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert older != head() and f"revision {head()}" in captured.out
    assert _events(env.db.url) == [1]
    db = Database(env.db.url)
    assert current(db) == head()
    db.dispose()
