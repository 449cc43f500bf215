"""Benchmark (issue 3, issue 14): Telegram updates per second and reply latency, through the test double.

    .venv/bin/python bench/telegram_updates.py [--runs 5] [--updates 2000] [--users 200] [--rate 50]
        [--seconds 20] [--prod-rate 25] [--prod-seconds 40] [--coordinators 1] [--keep] [--echo-only]
        [--no-scheduler] [--py-spy PATH [--py-spy-bin BIN] [--py-spy-cpu] [--py-spy-gil]] [--bot-cmd CMD]

One Telegram Bot API double (tests/doubles) runs in a thread of this process; each bot runs as
its own process against it:

  (a) a bare python-telegram-bot echo bot (Application + its own Updater.start_polling,
      replying the text back) on --updates queued messages from --users users;
  (b) `dutybot run` (the real entry point: poller, inbox, router, SQLite writes, delivery,
      scheduler) on --updates queued real status updates `/tiendo TASK N note` from --users
      agency contacts (each on its own agency's tasks) of a launched event;
  (a) and (b) are paired on a fresh double with flood limits off (the measure is the bot, not
      the limiter) and repeated --runs times: the ratio dutybot/echo is reported as the MEDIAN
      of the runs with its spread (min-max and each run), target median >= 0.9;
  (c) in the first run, both bots fed --rate updates/s for --seconds, limits off: latency for
      reference (the double stamps when the user's message is emitted and when the answer arrives);
  (d) dutybot on a fresh double WITH Telegram's flood limits (1/s per chat, 30/s overall) and
      the bot's production pacing (nothing overridden), fed --prod-rate updates/s for
      --prod-seconds after a few warm-up updates: p99 latency, target <= 50 ms, and no 429.

Throughput = updates / (first getUpdates that returned updates -> last answer received). Answers
a chat's turn made wait are merged into one message (as in production): it answers each of them.
Also reported: each bot's CPU ms per update (its process's user+system time, start-up
included), which moves less than updates/s when others load the machine.
`ok`: median ratio >= 0.9, production-limits p99 <= 50 ms, no 429 there, no Bot API violations
(and every update answered, or the bench stops with an error).
Friendlier than production: loopback, no TLS, answers at once from the double; one process
on SQLite; the users' updates are spread evenly over 200 chats (no one sends twice a second).
Prints tables for people and, as its LAST line, one JSON object with the figures.
--py-spy PATH records a py-spy profile of dutybot during (b) (speedscope JSON to PATH);
--no-scheduler and --bot-cmd run variants of dutybot for diagnosis.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import emit, machine_note, table  # noqa: E402  (bench/ is this script's folder)

TOKEN = "123:TEST"
ECHO_UID = 800_001
DUTY_UID = 900_001


# -- the echo bot (a child process) ------------------------------------------------------------
def echo_bot(base_url: str, base_file_url: str) -> None:
    """A bare PTB 22 echo bot: run_polling (Updater.start_polling) and reply_text the text back."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text, do_quote=True)

    app = ApplicationBuilder().token(TOKEN).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(poll_interval=0.0, timeout=10, allowed_updates=["message"], close_loop=True)


def dutybot_without_scheduler() -> None:
    """`dutybot run` minus the reminder scheduler (--no-scheduler: what the scheduler costs)."""
    from bot.app import open_app
    from bot.config import load_settings
    from bot.runtime import Runtime

    logging.basicConfig(level=logging.WARNING)
    asyncio.run(Runtime(open_app(load_settings(None)), scheduler=False).run_until_signalled())


# -- the world for dutybot ---------------------------------------------------------------------
def make_world(db_path: Path, users: int, coordinators: int) -> tuple[list[tuple[int, str]], dict[str, list[str]]]:
    """A launched event (its first deadline 20 days away, so no reminder is due; its launch
    messages are not queued, so none is delivered during the measure) and `users` contacts
    spread over the agencies leading tasks; `coordinators` coordinators receive the news of
    every status change, as in real use."""
    from bot.app import SystemActor, open_app
    from bot.config import load_settings
    from tests.helpers import add_user, seed_event
    from workflows import events as event_uc
    from workflows.ports import Ctx

    app = open_app(load_settings(None, storage={"url": f"sqlite:///{db_path}"}))
    try:
        event = seed_event(app, datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=100))
        with app.write() as store:
            event = store.get_event(event.id)
            event_uc.launch_event(store, Ctx(actor=SystemActor(), channel="cli", now=app.now()), event)
        with app.read() as store:
            tasks = sorted(store.tasks(event.id), key=lambda t: t.number)
        by_agency: dict[str, list[str]] = {}
        for t in tasks:
            by_agency.setdefault(t.lead, []).append(t.code)
        agencies = sorted(by_agency)
        contacts = []
        for k in range(users):
            uid, agency = DUTY_UID + k, agencies[k % len(agencies)]
            add_user(app, str(uid), "contact", agency, channel="telegram")
            contacts.append((uid, agency))
        for k in range(coordinators):
            add_user(app, str(DUTY_UID - 1 - k), "coordinator", channel="telegram")
    finally:
        app.db.dispose()
    return contacts, by_agency


# -- driving the double ------------------------------------------------------------------------
class Driver:
    """The double in a background thread, plus what the benchmark records on it."""

    def __init__(self, limits=None) -> None:
        from tests.doubles.telegram_api import TelegramDoubleThread

        self.tg = TelegramDoubleThread(TOKEN, limits=limits).start()
        self.d = self.tg.double
        self.first_batch: float | None = None  # time.time() of the first getUpdates with updates
        self.tg.call(self._wrap_get_updates)

    def _wrap_get_updates(self) -> None:
        inner = self.d._handlers["getUpdates"]

        async def get_updates(p):
            result = await inner(p)
            if result and self.first_batch is None:
                self.first_batch = time.time()
            return result

        self.d._handlers["getUpdates"] = get_updates

    def make_users(self, uids, name: str) -> None:
        self.tg.call(lambda: [self.d.make_user(uid, f"{name} {uid}") for uid in uids])

    def queue(self, messages: list[tuple[int, str]]) -> dict[tuple[int, int], float]:
        """Emit all messages now; returns {(chat, message_id): time emitted}."""

        async def run():
            out = {}
            for uid, text in messages:
                m = await self.d.user_sends(uid, text)
                out[(m["chat"]["id"], m["message_id"])] = time.time()
            return out

        return self.tg.run(run(), timeout=120)

    def feed(self, messages: list[tuple[int, str]], rate: float) -> dict[tuple[int, int], float]:
        """Emit messages at `rate` per second (on the double's loop, on schedule)."""

        async def run():
            loop = asyncio.get_running_loop()
            start, out = loop.time(), {}
            for i, (uid, text) in enumerate(messages):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                m = await self.d.user_sends(uid, text)
                out[(m["chat"]["id"], m["message_id"])] = time.time()
            return out

        return self.tg.run(run(), timeout=len(messages) / rate + 60)

    def answers(self, since: int, keys) -> dict[tuple[int, int], float]:
        """{(chat, user's message id): time answered} for the bot's replies in sent[since:].

        A chat's answers that waited for its turn go as one message (bot.outgoing: their texts
        joined by MERGE_SEP, a reply to the first): such a message answers that many of the
        chat's updates in a row, from the one it quotes."""
        from bot.outgoing import MERGE_SEP

        by_chat: dict[int, list[int]] = {}
        for chat, mid in keys:
            by_chat.setdefault(chat, []).append(mid)
        for mids in by_chat.values():
            mids.sort()

        def collect():
            out = {}
            for r in self.d.sent[since:]:
                ref = (r.message or {}).get("reply_to_message")
                mids = by_chat.get(r.chat_id)
                if not ref or ref.get("from", {}).get("is_bot") is not False or not mids:
                    continue
                i = bisect.bisect_left(mids, ref["message_id"])
                if i == len(mids) or mids[i] != ref["message_id"]:
                    continue
                for mid in mids[i : i + len((r.text or "").split(MERGE_SEP))]:
                    out.setdefault((r.chat_id, mid), r.time)
            return out

        return self.tg.call(collect)

    def wait_answered(self, keys, since: int, proc: subprocess.Popen, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        keys = set(keys)
        while True:
            got = self.answers(since, keys)
            if keys <= got.keys():
                return {k: got[k] for k in keys}
            if proc.poll() is not None:
                raise SystemExit(f"the bot exited ({proc.returncode}) with {len(keys - got.keys())} unanswered")
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: {len(keys - got.keys())} of {len(keys)} unanswered")
            time.sleep(0.25)

    def stop(self) -> None:
        self.tg.stop()


def cpu_seconds() -> tuple[float, float]:
    """(this process: mostly the double, children: the bots) user+system CPU seconds so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(10)


def throughput(drv: Driver, sent: dict, answered: dict) -> tuple[float, float]:
    t0 = drv.first_batch or min(sent.values())
    elapsed = max(answered.values()) - t0
    return len(answered) / elapsed, elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# -- the phases --------------------------------------------------------------------------------
def run_echo(drv: Driver, n: int, users: int, log: Path, rate: float = 0.0, seconds: float = 0.0) -> dict:
    uids = [ECHO_UID + k for k in range(users)]
    drv.make_users(uids, "Echo")
    since, drv.first_batch = len(drv.d.sent), None
    sent = drv.queue([(uids[i % users], f"/tiendo CB-{1 + i % 58:02d} {1 + i % 98} e{i:04d}") for i in range(n)])
    cpu0 = cpu_seconds()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--echo-child", drv.tg.base_url, drv.tg.base_file_url],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    lat = []
    try:
        answered = drv.wait_answered(sent, since, proc, timeout=300)
        double_cpu = cpu_seconds()[0] - cpu0[0]  # the burst only, as for dutybot
        if rate and seconds:  # the reference for dutybot's latency: the same paced feed
            time.sleep(1.0)
            paced = [
                (uids[i % users], f"/tiendo CB-{1 + i % 58:02d} {1 + i % 98} q{i:04d}")
                for i in range(int(rate * seconds))
            ]
            since2 = len(drv.d.sent)
            fed = drv.feed(paced, rate)
            got = drv.wait_answered(fed, since2, proc, timeout=120)
            lat = [(got[k] - fed[k]) * 1000 for k in fed]
    finally:
        stop(proc)
    bot_cpu = cpu_seconds()[1] - cpu0[1]  # a child's CPU is counted once it has exited: the whole run
    ups, elapsed = throughput(drv, sent, answered)
    return {
        "ups": ups,
        "seconds": elapsed,
        "answered": len(answered),
        "latencies": lat,
        "double_cpu": double_cpu,
        "bot_cpu": bot_cpu,
    }


def status_updates(contacts, by_agency, n: int, tag: str, counter: Counter) -> list[tuple[int, str]]:
    out = []
    for i in range(n):
        uid, agency = contacts[i % len(contacts)]
        codes = by_agency[agency]
        code = codes[counter[uid] % len(codes)]
        counter[uid] += 1
        out.append((uid, f"/tiendo {code} {1 + counter[uid] % 98} {tag}{i:04d}"))
    return out


def run_dutybot(
    drv: Driver, args, workdir: Path, *, burst: int, rate: float, seconds: float, production: bool = False
) -> dict:
    """dutybot on a fresh database: `burst` queued updates (throughput), then `rate` updates/s
    for `seconds` (latency). `production`: the bot's own limits as configured (the double's are
    set by the caller); no burst, a few warm-up updates answered before the clock starts."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "dutybot.db"
    contacts, by_agency = make_world(db_path, args.users, args.coordinators)
    drv.make_users([uid for uid, _ in contacts] + [DUTY_UID - 1 - k for k in range(args.coordinators)], "Cán bộ")
    for k in range(args.coordinators):  # a coordinator has written to the bot, so it may write back
        drv.tg.run(drv.d.user_sends(DUTY_UID - 1 - k, "xin chào"))
    drv.tg.call(lambda: drv.d._confirm(10**12))  # those greetings are not part of the measure
    counter: Counter = Counter()
    first = status_updates(contacts, by_agency, burst or min(20, args.users), "b" if burst else "w", counter)
    since, drv.first_batch = len(drv.d.sent), None
    sent = drv.queue(first)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")},
        "DUTYBOT_TELEGRAM__TOKEN": TOKEN,
        "DUTYBOT_TELEGRAM__BASE_URL": drv.tg.base_url,
        "DUTYBOT_TELEGRAM__BASE_FILE_URL": drv.tg.base_file_url,
        "DUTYBOT_STORAGE__URL": f"sqlite:///{db_path}",
    }
    if not production:
        # The double's flood limits are off, and so is the bot's overall rate (answers count
        # against it: 50 answers/s would wait for a 29/s budget); the per-chat pacing stays,
        # so the coordinator's news goes at most once a second, as in production.
        env["DUTYBOT_TELEGRAM__MAX_PER_SECOND"] = "100000"
    exe = Path(sys.executable).with_name("dutybot")
    cmd = [str(exe), "run"] if exe.exists() else [sys.executable, "-m", "bot.cli", "run"]
    if args.no_scheduler:
        cmd = [sys.executable, __file__, "--dutybot-child"]
    if args.bot_cmd:
        cmd = args.bot_cmd.split()
    log = workdir / "dutybot.log"
    cpu0 = cpu_seconds()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def profiler():
        flags = ([] if args.py_spy_cpu else ["--idle"]) + (["--gil"] if args.py_spy_gil else [])
        return subprocess.Popen(
            [
                args.py_spy_bin,
                "record",
                "--pid",
                str(proc.pid),
                "--format",
                "speedscope",
                "-o",
                args.py_spy,
                "--rate",
                "200",
                "--subprocesses",
                *flags,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    spy = profiler() if args.py_spy and args.py_spy_phase == "burst" else None
    try:
        answered = drv.wait_answered(sent, since, proc, timeout=600)
        ups, elapsed = throughput(drv, sent, answered) if burst else (None, None)
        double_cpu = cpu_seconds()[0] - cpu0[0]
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        lat: list[float] = []
        if rate and seconds:  # (c) latency at a steady rate, same process.
            time.sleep(1.0)
            paced = status_updates(contacts, by_agency, int(rate * seconds), "l", counter)
            since = len(drv.d.sent)
            spy = profiler() if args.py_spy and args.py_spy_phase == "latency" else None
            fed = drv.feed(paced, rate)
            got = drv.wait_answered(fed, since, proc, timeout=120 + seconds)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            lat = [(got[k] - fed[k]) * 1000 for k in fed]
    finally:
        rc = stop(proc)
    bot_cpu = cpu_seconds()[1] - cpu0[1]  # the whole run, burst and latency phase (and py-spy)
    return {
        "ups": ups,
        "seconds": elapsed,
        "answered": len(answered),
        "latencies": lat,
        "rc": rc,
        "log": log,
        "double_cpu": double_cpu,
        "bot_cpu": bot_cpu,
        "updates": len(first) + len(lat),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--updates", type=int, default=2000)
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--rate", type=float, default=50.0, help="updates/s in the latency phase")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the latency phase")
    p.add_argument("--coordinators", type=int, default=1)
    p.add_argument("--runs", type=int, default=5, help="paired echo/dutybot burst runs; the ratio is their median")
    p.add_argument(
        "--prod-rate",
        type=float,
        default=25.0,
        help="updates/s of the run with production limits (the double's and the bot's)",
    )
    p.add_argument("--prod-seconds", type=float, default=40.0, help="length of that run (0: skip it)")
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="run dutybot without its reminder scheduler (diagnosis; not the real thing)",
    )
    p.add_argument("--py-spy", metavar="PATH", help="profile dutybot during the burst (needs py-spy)")
    p.add_argument("--py-spy-bin", default="py-spy")
    p.add_argument("--py-spy-phase", choices=("burst", "latency"), default="burst")
    p.add_argument("--py-spy-cpu", action="store_true", help="profile only running threads (no --idle)")
    p.add_argument("--py-spy-gil", action="store_true", help="profile only the thread holding the GIL")
    p.add_argument("--bot-cmd", metavar="CMD", help="run CMD instead of `dutybot run` (experiments; same env)")
    p.add_argument("--echo-only", action="store_true", help="only the echo bot (is the double fast enough?)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (database, logs)")
    p.add_argument("--echo-child", nargs=2, metavar=("BASE_URL", "BASE_FILE_URL"), help=argparse.SUPPRESS)
    p.add_argument("--dutybot-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.dutybot_child:
        dutybot_without_scheduler()
        return 0
    if args.echo_child:
        echo_bot(*args.echo_child)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="dutybot-bench-"))
    try:
        return measure(args, workdir)
    finally:
        if args.keep:
            print(f"work folder: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def paired_run(args, workdir: Path, index: int) -> tuple[dict, dict, int]:
    """One echo burst and one dutybot burst on a fresh double (flood limits off); the first run
    also does the limits-off latency phase (--rate for --seconds) for both bots."""
    drv = Driver()
    try:
        rate, seconds = (args.rate, args.seconds) if index == 0 else (0.0, 0.0)
        echo = run_echo(drv, args.updates, args.users, workdir / f"echo-{index}.log", rate, seconds)
        if args.echo_only:
            return echo, {}, 0
        duty = run_dutybot(drv, args, workdir / f"run-{index}", burst=args.updates, rate=rate, seconds=seconds)
        return echo, duty, len(drv.tg.call(lambda: list(drv.d.validation_errors)))
    finally:
        drv.stop()


def production_run(args, workdir: Path) -> tuple[dict, dict]:
    """dutybot with the double's Telegram flood limits and the bot's own production pacing, fed
    --prod-rate updates/s for --prod-seconds."""
    from tests.doubles.telegram_api import FloodLimits

    drv = Driver(limits=FloodLimits())
    try:
        duty = run_dutybot(
            drv, args, workdir / "production", burst=0, rate=args.prod_rate, seconds=args.prod_seconds, production=True
        )
        stats = drv.tg.call(
            lambda: {
                "429": drv.d.stats["429"],
                "flood_429": drv.d.stats["flood_429"],
                "sent_inside_retry_after": drv.d.stats["sent_inside_retry_after"],
                "violations": len(drv.d.validation_errors),
            }
        )
        return duty, stats
    finally:
        drv.stop()


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "all": [round(v, 3) for v in values],
    }


def latency_figures(lat: list[float]) -> dict:
    if not lat:
        return {}
    return {
        "p50_ms": round(statistics.median(lat), 1),
        "p95_ms": round(pct(lat, 95), 1),
        "p99_ms": round(pct(lat, 99), 1),
        "max_ms": round(max(lat), 1),
        "n": len(lat),
    }


def measure(args, workdir: Path) -> int:
    runs = [paired_run(args, workdir, i) for i in range(max(1, args.runs))]
    if args.echo_only:
        ups = [e["ups"] for e, _, _ in runs]
        print(f"PTB echo: {statistics.median(ups):.1f} updates/s (median of {len(ups)}; {min(ups):.1f}-{max(ups):.1f})")
        emit(
            {
                "bench": "telegram_updates",
                "echo_ups": spread(ups),
                "updates": args.updates,
                "users": args.users,
                **machine_note(),
            }
        )
        return 0
    ratios = [d["ups"] / e["ups"] for e, d, _ in runs]
    violations = sum(v for _, _, v in runs)
    table(
        ["run", "echo updates/s", "dutybot updates/s", "ratio", "echo CPU ms/update", "dutybot CPU ms/update"],
        [
            [
                i + 1,
                e["ups"],
                d["ups"],
                round(r, 3),
                round(e["bot_cpu"] / (args.updates + len(e["latencies"])) * 1000, 2),
                round(d["bot_cpu"] / d["updates"] * 1000, 2),
            ]
            for i, ((e, d, _), r) in enumerate(zip(runs, ratios))
        ],
        title=f"Throughput: {args.updates} queued updates from {args.users} users, flood limits off "
        f"(target: median ratio >= 0.9; got {statistics.median(ratios):.2f}, "
        f"{min(ratios):.2f}-{max(ratios):.2f})",
    )
    echo0, duty0, _ = runs[0]
    lat = duty0["latencies"]
    figures: dict = {
        "bench": "telegram_updates",
        "runs": len(runs),
        "ratio": spread(ratios),
        "echo_ups": spread([e["ups"] for e, _, _ in runs]),
        "dutybot_ups": spread([d["ups"] for _, d, _ in runs]),
        # CPU per update (start-up included) varies less with the machine's load than updates/s.
        "echo_cpu_ms_per_update": spread(
            [e["bot_cpu"] / (args.updates + len(e["latencies"])) * 1000 for e, _, _ in runs]
        ),
        "dutybot_cpu_ms_per_update": spread([d["bot_cpu"] / d["updates"] * 1000 for _, d, _ in runs]),
        "updates": args.updates,
        "users": args.users,
        "coordinators": args.coordinators,
        "scheduler": not args.no_scheduler,
    }
    rows = []
    if lat:
        figures["limits_off"] = {"rate": args.rate, **latency_figures(lat), "echo": latency_figures(echo0["latencies"])}
        rows.append(
            [
                "dutybot, limits off",
                args.rate,
                *[figures["limits_off"][k] for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms")],
            ]
        )
        if echo0["latencies"]:
            e = figures["limits_off"]["echo"]
            rows.append(["PTB echo, limits off", args.rate, e["n"], e["p50_ms"], e["p95_ms"], e["p99_ms"], e["max_ms"]])
    prod = None
    if args.prod_rate and args.prod_seconds:
        duty, stats = production_run(args, workdir)
        prod = figures["production"] = {"rate": args.prod_rate, **latency_figures(duty["latencies"]), **stats}
        violations += stats["violations"]
        rows.append(
            [
                "dutybot, production limits",
                args.prod_rate,
                prod["n"],
                prod["p50_ms"],
                prod["p95_ms"],
                prod["p99_ms"],
                prod["max_ms"],
            ]
        )
    if rows:
        table(
            ["bot", "rate/s", "updates", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            rows,
            title="latency, user message -> answer (target: dutybot p99 <= 50 ms with production limits)",
        )
    if lat:
        # The same latencies in order of sending, by quarter of the phase: a tail that grows with
        # time is a backlog building up, a flat one is the cost of each update.
        quarters = [lat[i * len(lat) // 4 : (i + 1) * len(lat) // 4] for i in range(4)]
        table(
            ["quarter", "p50 ms", "p99 ms"],
            [[f"{i + 1}/4", round(statistics.median(q), 1), round(pct(q, 99), 1)] for i, q in enumerate(quarters) if q],
            title="latency over the limits-off phase",
        )
    if prod is not None:
        table(
            ["what", "value"],
            [
                ("429 answers (flood limits)", f"{prod['429']} ({prod['flood_429']})"),
                ("requests inside a retry_after window", prod["sent_inside_retry_after"]),
            ],
            title="production-limits run",
        )
    figures["violations"] = violations
    figures["ok"] = bool(
        figures["ratio"]["median"] >= 0.9
        and violations == 0
        and prod is not None
        and prod["p99_ms"] <= 50
        and prod["429"] == 0
    )
    figures["machine"] = machine_note()
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
