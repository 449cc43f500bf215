"""What the outage tests share: a private PostgreSQL cluster that can be stopped (never the
machine's shared one), a SQLite file that can be made read-only, a world of a launched
event with 3 contacts and a coordinator on Telegram, and `dutybot run` as a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.app import open_app
from bot.config import load_settings
from tests.helpers import add_user, launched_by_agency

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("DUTYBOT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
TOKEN = "123:TEST"
COORDINATOR = 600_001
CONTACTS = (600_101, 600_102, 600_103)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """A throw-away cluster in a temp folder, run as the `postgres` user, on a free port."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None or os.geteuid() != 0:
            pytest.skip(f"a private PostgreSQL cluster needs {PG_BIN}/initdb, runuser and root")
        self.dir = Path(tempfile.mkdtemp(prefix="dutybot-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data, self.port = self.dir / "data", free_port()
        self._as_postgres(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        self.start()
        self._as_postgres(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "dutybot")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/dutybot"

    def _as_postgres(self, *args) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            check=True,
            capture_output=True,
            cwd=self.dir,
            timeout=120,
        )

    def start(self) -> None:
        self._as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.dir / "log",
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class ReadOnlySqlite:
    """A SQLite file whose database and WAL files can be made immutable (writes fail, reads work)."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("chattr") is None or os.geteuid() != 0:
            pytest.skip("making a SQLite file read-only under a running process needs chattr and root")
        self.path = folder / "dutybot.db"
        self.url = f"sqlite:///{self.path}"
        probe = folder / "probe"
        probe.write_bytes(b"x")
        if subprocess.run(["chattr", "+i", probe], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not permitted here (no CAP_LINUX_IMMUTABLE)")
        subprocess.run(["chattr", "-i", probe], check=True)
        self._files: list[Path] = []

    def stop(self) -> None:
        self._files = [p for p in (self.path, self.path.with_name(self.path.name + "-wal")) if p.exists()]
        for p in self._files:
            subprocess.run(["chattr", "+i", p], check=True)

    def start(self) -> None:
        for p in self._files:
            if p.exists():
                subprocess.run(["chattr", "-i", p], check=True)
        self._files = []

    def close(self) -> None:
        self.start()


def make_world(url: str) -> dict[int, list[str]]:
    """A launched event; 3 contacts of 3 agencies and a coordinator. Returns each contact's task codes."""
    app = open_app(load_settings(None, storage={"url": url}))
    try:
        by_agency = launched_by_agency(app, datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=100))
        agencies = sorted(by_agency, key=lambda a: -len(by_agency[a]))[: len(CONTACTS)]
        add_user(app, str(COORDINATOR), "coordinator", channel="telegram")
        codes = {}
        for uid, agency in zip(CONTACTS, agencies):
            add_user(app, str(uid), "contact", agency, channel="telegram")
            codes[uid] = by_agency[agency]
        return codes
    finally:
        app.db.dispose()


def dutybot_env(tg, url: str, health_port: int) -> dict:
    env = {
        **os.environ,
        "DUTYBOT_TELEGRAM__TOKEN": TOKEN,
        "DUTYBOT_TELEGRAM__BASE_URL": tg.base_url,
        "DUTYBOT_TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        "DUTYBOT_STORAGE__URL": url,
        "DUTYBOT_TELEGRAM__MAX_PER_SECOND": "100000",
        "DUTYBOT_TELEGRAM__CHAT_INTERVAL": "0",
        "DUTYBOT_REMINDERS__QUIET_HOURS": "",  # news goes at once whatever the hour the test runs
        "DUTYBOT_SERVER__HEALTH": "true",
        "DUTYBOT_SERVER__PORT": str(health_port),
        "DUTYBOT_STORAGE__BUSY_TIMEOUT_MS": "2000",
        # 2 reports a second from one contact is over the per-sender flood rate (issue 13 item 6):
        # these tests are about outages, every report is to be answered.
        "DUTYBOT_LIMITS__SENDER_PER_MINUTE": "0",
    }
    env.pop("DUTYBOT_TELEGRAM__MODE", None)
    return env


def launch(env: dict, log: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("dutybot")
    cmd = [str(exe), "run"] if exe.exists() else [sys.executable, "-m", "bot.cli", "run"]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return 0, {}


def wait(
    what: str,
    check,
    timeout: float,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
    interval: float = 0.1,
):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"dutybot exited ({proc.returncode}) while waiting for {what}:\n{tail}")
        if time.monotonic() > deadline:
            tail = (
                "\n".join(
                    line[:300] for line in log.read_text(errors="replace").splitlines() if not line.startswith(" ")
                )[-6000:]
                if log
                else ""
            )
            raise AssertionError(f"out of time ({timeout:.0f} s) waiting for {what}; the log:\n{tail}")
        time.sleep(interval)


def terminate(proc: subprocess.Popen, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode
