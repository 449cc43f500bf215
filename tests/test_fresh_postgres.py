"""From an empty PostgreSQL database to serving, with the README's commands only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.migrate import head
from tests.conftest import PG_SKIP, PG_URL
from tests.doubles.telegram_api import TelegramDoubleThread

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not PG_URL, reason=PG_SKIP)


def test_empty_database_to_serving(unused_tcp_port):
    name = f"dutybot_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))  # README: createdb
    url = f"{PG_URL.rpartition('/')[0]}/{name}"
    try:
        with TelegramDoubleThread(token="123:TEST", limits=None) as tg:
            env = {
                **os.environ,
                "DUTYBOT_STORAGE__URL": url,
                "DUTYBOT_TELEGRAM__TOKEN": "123:TEST",
                "DUTYBOT_TELEGRAM__BASE_URL": tg.base_url,
                "DUTYBOT_TELEGRAM__BASE_FILE_URL": tg.base_file_url,
                "DUTYBOT_SERVER__HEALTH": "true",
                "DUTYBOT_SERVER__PORT": str(unused_tcp_port),
            }

            def dutybot(*args):
                return subprocess.run(
                    [sys.executable, "-m", "bot.cli", *args],
                    cwd=ROOT,
                    env=env,
                    text=True,
                    capture_output=True,
                    timeout=120,
                )

            up = dutybot("db", "upgrade")
            assert up.returncode == 0 and f"revision {head()}" in up.stdout, up.stderr
            assert dutybot("user", "add-admin", "telegram:4242").returncode == 0
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                report = None
                for _ in range(100):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{unused_tcp_port}/health", timeout=2) as r:
                            report = json.loads(r.read())
                            if report.get("is_leader"):
                                break
                    except OSError:
                        pass
                    time.sleep(0.3)
                assert report and report["database"] == "ok" and report["is_leader"], report
                # …and it serves: the admin talks to the bot through Telegram.
                tg.make_user(4242, "Admin")
                tg.user_sends(4242, "/sukien")
                reply = tg.wait_for(lambda r: r.chat_id == 4242, 15)
                assert "Chưa có sự kiện" in reply.text
            finally:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(30) == 0, proc.stderr.read().decode()[-1000:]
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
