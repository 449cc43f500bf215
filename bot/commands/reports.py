"""Report commands: the workbook (or the formal .docx Báo cáo) as a file."""

from __future__ import annotations

from bot.channels.base import Reply
from bot.commands import READER, STAFF, Call, UsageError, command
from bot.commands._helpers import event_by_ref
from bot.render.xlsx import workbook_bytes
from workflows.report_model import event_report


def _event_data(call: Call, args: list[str] | None = None):
    """The event named by the optional argument (else the current one) and its export data."""
    args = call.args if args is None else args
    if len(args) > 1:
        raise UsageError()
    with call.read() as store:
        event = event_by_ref(store, call, args[0] if args else None)
        return event, event_report(store, event, call.app.now())


@command("report", "baocao", audience=READER, menu=("staff",))
def report(call: Call) -> list[Reply]:
    """The workbook; `/baocao docx [EVENT]` the formal Báo cáo (Decree 30) as a Word file."""
    formats = [a for a in call.args if a.lower() in ("docx", "word", "xlsx", "excel")]
    if len(formats) > 1:
        raise UsageError()
    event, data = _event_data(call, [a for a in call.args if a not in formats])
    if formats and formats[0].lower() in ("docx", "word"):
        if call.msg.chat_type != "private":  # its reasons and notes are people's words: not for a group
            return call.reply("err.private_only")
        from bot.render.report_docx import build_report_docx

        return [
            Reply(
                call.texts("formal.caption", event=event.name, count=len(data.tasks)),
                document=(f"bao-cao-su-kien-{event.id}.docx", build_report_docx(data)),
            )
        ]
    if call.msg.chat_type != "private":
        # A group gets the summary sheet only: the tasks, notes and audit sheets name people.
        name = f"dutybot-event-{event.id}-summary.xlsx"
        return [
            Reply(
                call.texts("report.group_caption", event=event.name),
                document=(name, workbook_bytes(data, call.texts, summary_only=True)),
            )
        ]
    name = f"dutybot-event-{event.id}.xlsx"
    return [
        Reply(
            call.texts("report.caption", event=event.name, count=len(data.tasks)),
            document=(name, workbook_bytes(data, call.texts)),
        )
    ]


@command("chart", "bieudo", audience=READER, menu=("staff",))
def chart(call: Call) -> list[Reply]:
    from bot.render.chart import chart_png

    event, data = _event_data(call)
    if not data.tasks:
        return call.reply("err.no_tasks", event=event.name)
    return [Reply(call.texts("chart.caption", event=event.name), photo=chart_png(data, call.texts, call.app.now()))]


@command("endevent", "ketthuc", audience=STAFF, menu=("staff",))
def endevent(call: Call) -> list[Reply]:
    """Close an event: it stops being chased, and the coordinators get the after-action report."""
    from bot.commands.coordination import confirm_end

    if len(call.args) != 1:
        raise UsageError()
    with call.read() as store:
        event = event_by_ref(store, call, call.args[0])
    if event.ended_at is not None:
        return call.reply("endevent.already", id=event.id)
    return confirm_end(call, event)  # ended by the "Kết thúc" button (bot.commands.coordination)
