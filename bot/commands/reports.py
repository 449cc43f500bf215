"""Report commands: the workbook as a file."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import READER, Call, UsageError, command
from bot.commands._helpers import event_by_ref
from bot.render.export import event_export
from bot.render.xlsx import workbook_bytes


@command("report", "baocao", audience=READER, menu=("staff",))
def report(call: Call) -> list[Reply]:
    if len(call.args) > 1:
        raise UsageError()
    with call.app.read() as store:
        event = event_by_ref(store, call, call.args[0] if call.args else None)
        data = event_export(store, event, call.app.now())
    name = f"dutybot-event-{event.id}.xlsx"
    return [Reply(call.texts("report.caption", event=event.name, count=len(data["tasks"])),
                  document=(name, workbook_bytes(data, call.texts)))]
