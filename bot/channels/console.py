"""The local chat: a terminal where one acts as any user, with no token and no network.

Lines starting with `/as`, `/users`, `/quit` drive the terminal itself; every
other line goes to the bot as a message from the current user. Buttons show as numbers:
typing the number presses the button. Messages the bot sends to other users wait in
their inbox until you switch to them.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.channels.base import Attachment, IncomingMessage, Reply
from bot.context import App
from bot.delivery import Delivery
from bot.i18n import Texts, strip_html
from bot.pipeline import Job, Pipeline
from bot.router import Router

CHANNEL = "console"
_HANDLE = re.compile(r"^[\w.-]{1,32}$")
FILES_OUT = "out"  # files the bot sends (/baocao, /bieudo, a template), relative to where it runs


class ConsoleChannel:
    name = CHANNEL
    edits = False  # a button's answer is printed as a new message

    def __init__(self, app: App, router: Router, out: TextIO = sys.stdout, out_dir: str | Path = FILES_OUT) -> None:
        self.app, self.router, self.out, self.out_dir = app, router, out, Path(out_dir)
        self.texts = Texts(app.settings.general.language, app.tz)  # the terminal's own lines
        self.current: str | None = None
        self.delivery = Delivery(app, {CHANNEL: self})
        self.pipeline = Pipeline(app, router, self, pacer=None, on_change=self.delivery.wake)
        self._ids = itertools.count(1)

    # -- Channel protocol --------------------------------------------------------------
    def ready_chats(self) -> set[str]:
        # Only the person at the keyboard can receive; others' messages stay in the outbox
        # (pending, not lost) until you switch to them.
        return {self.current} if self.current else set()

    async def send(self, chat_id: str, reply: Reply) -> str:
        self._show(reply)
        flat = [b.data for row in reply.buttons for b in row]
        if flat:  # the router maps a bare number to these choices
            with self.app.write() as store:
                store.remember_choices(CHANNEL, chat_id, flat)
        return str(next(self._ids))

    # -- the terminal ------------------------------------------------------------------
    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _show(self, reply: Reply) -> None:
        self._print("🤖 " + strip_html(reply.text).replace("\n", "\n   "))
        if reply.document:
            self._show_file(*reply.document)
        if reply.photo:
            self._show_file(f"anh-{next(self._ids)}.png", reply.photo)
        flat = [b for row in reply.buttons for b in row]
        if flat:
            self._print("   " + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(flat, 1)))

    def _say(self, key: str, **params) -> None:
        self._print(strip_html(self.texts(key, **params)))

    def _show_file(self, name: str, data: bytes) -> None:
        """What another app shows as a file is saved under ./out/, and its path printed."""
        saved = self._save(name, data)
        size = f"{max(len(data) // 1024, 1)} KB"
        if saved:
            self._say("console.saved", path=saved, size=size)
        else:
            self._say("console.not_saved", name=Path(name).name, size=size, folder=str(self.out_dir))

    def _save(self, name: str, data: bytes) -> str | None:
        """Keep a file the bot sent where the person at the keyboard can open it."""
        folder = self.out_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / Path(name).name
            path.write_bytes(data)
        except OSError:
            return None
        return str(path)

    def users(self) -> list[tuple[str, str, int]]:
        """(handle, label, messages waiting) for every console identity."""
        with self.app.read() as store:
            waiting = store.pending_by_chat(CHANNEL)
            out = []
            for ident in sorted(
                (i for u in store.users() for i in store.identities_of(u.id) if i.channel == CHANNEL),
                key=lambda i: i.external_id,
            ):
                u = store.user(ident.user_id)
                role = self.texts(f"role.{u.role}") + (f" {u.agency_code}" if u.agency_code else "")
                if not u.active:  # removed: the bot refuses them; say so before anyone acts as them
                    role += self.texts("console.removed")
                out.append((ident.external_id, f"{u.name} ({role})", waiting.get(ident.chat_id, 0)))
            return out

    def switch(self, handle: str) -> None:
        known = {h: (label, n) for h, label, n in self.users()}
        if handle not in known:
            if not _HANDLE.match(handle):
                self._say("console.bad_name", handle=handle)
                return
            self.current = handle  # someone the bot does not know yet: try /start MÃ_MỜI as them
            self._say("console.stranger", handle=handle)
            return
        self.current = handle
        label, waiting = known[handle]
        self._print(
            strip_html(
                self.texts("console.now", handle=handle, label=label)
                + (self.texts("console.waiting", count=waiting) if waiting else "")
            )
        )

    async def handle_line(self, line: str) -> bool:
        """Process one typed line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        word = line.split()[0].lower()
        if word in ("/quit", "/exit", "/thoat"):
            return False
        if word == "/users":
            for handle, label, waiting in self.users():
                self._print(f"  {handle:10} {label}" + (f"  ✉ {waiting}" if waiting else ""))
        elif word == "/as" and len(line.split()) == 2:
            self.switch(line.split()[1])
        elif word == "/chathelp":
            self._say("console.help")
        elif self.current is None:
            self._say("console.choose")
        elif word in ("/file", "/tep"):
            await self._send_file(line)
        else:
            await self._to_bot(line)
        await self.delivery.drain_once()
        return True

    async def _send_file(self, line: str) -> None:
        """`/file PATH [CAPTION]`: send a file from this computer as if attached in a private chat
        (the person at the keyboard owns these files; no chat user can name a server path)."""
        import shlex
        from pathlib import Path

        try:
            parts = shlex.split(line)
        except ValueError:
            parts = line.split()
        if len(parts) < 2:
            self._say("console.file_usage")
            return
        path = Path(parts[1]).expanduser()
        limit = self.app.settings.evidence.max_bytes
        try:
            size = path.stat().st_size
            data = path.read_bytes() if size <= limit else None
        except OSError as exc:
            self._say("console.file_unreadable", path=str(path), error=exc.strerror or exc)
            return
        att = Attachment(
            kind="document", file_ref=f"console:{path.name}", size=size, filename=path.name, mime="", data=data
        )
        await self._to_bot(" ".join(parts[2:]), attachment=att)

    async def _to_bot(self, line: str, attachment: Attachment | None = None) -> None:
        """Through the same pipeline as Telegram and Zalo (stored, applied and answered in one
        transaction, answers written to the outbox first); the answers are shown before the
        next prompt."""
        msg = IncomingMessage(
            channel=CHANNEL,
            user_id=self.current,
            chat_id=self.current,
            text=line,
            message_id=str(next(self._ids)),
            attachment=attachment,
        )
        job = Job(0, raw=msg, msg=msg, key=uuid.uuid4().hex, payload={"user": self.current, "text": line})
        await self.pipeline.apply([job], True)
        await self.pipeline.drain()

    # -- the pipeline's hooks (bot.pipeline.BatchChannel): nothing to translate ----------------
    async def parse(self, job: Job) -> None:
        pass

    def handled(self, job: Job) -> None:
        pass

    async def acknowledge(self, job: Job, toast: str | None) -> None:
        pass

    async def before_answers(self, job: Job) -> None:
        pass

    async def edit(self, chat_id: str, message_id: str, reply: Reply) -> None:
        await self.send(chat_id, reply)

    async def run(self, stream: TextIO = sys.stdin, *, prompt: bool = True) -> None:
        """The read-eval-print loop; works on a pipe as well as on a terminal."""
        interactive = prompt and stream.isatty()
        await self.delivery.drain_once()
        while True:
            if interactive:
                self.out.write(f"{self.current or '?'}> ")
                self.out.flush()
            line = await asyncio.to_thread(stream.readline)
            if not line:
                break
            if not interactive:
                self._print(f"{self.current or '?'}> {line.rstrip()}")
            if not await self.handle_line(line):
                break
