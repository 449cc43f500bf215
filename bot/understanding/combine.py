"""`understand(text, last_prompt=...)`: normalise, split into clauses, read each, combine by stated rules.

Rules, in order:
1. Task codes written in the text ("NC-07 xong rồi") are returned in `codes`: they decide the task.
2. A correction ("em báo nhầm, …") drops its own clause and marks the reading `correction`; one
   about another matter ("nhầm nhóm", "báo nhầm việc khác") or chatter alone ("lát nói sau") is
   `chatter`: no status.
3. Questions are read apart; a status plus a question is a status to confirm.
4. Modality (see `clauses`): a future, hoped-for, conditional or ironic completion is never done.
5. A closing assessment ("nhìn chung", "tóm lại", "hiện tại") beats the detail before it, except
   that an explicit blocker stated anywhere still counts.
6. Done needs certainty: any hedge, double negation, irony, condition, or question lowers a done
   to "confirm first" (`confident=False`, alternatives progress).
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.understanding import clauses as cl
from bot.understanding import lexicon as lx
from bot.understanding.normalise import canonical_tokens
from bot.understanding.read import UNCLEAR, Reading, alts, blocker_of, status

# A task code as people type it: "NC-05", "cb-12", "NC05" (capitals only without the dash).
_CODE = re.compile(r"(?<![\w-])(?:([A-Za-zĐđ]{1,5})-(\d{1,3})|([A-Z]{2,5})(\d{2,3}))(?![\w-])")


def task_codes(text: str) -> tuple[tuple[str, ...], str]:
    """(codes written in the text as "XX-NN", upper case, at least two digits; the text with them blanked out)."""
    codes = [f"{(m.group(1) or m.group(3)).upper()}-{int(m.group(2) or m.group(4)):02d}" for m in _CODE.finditer(text)]
    return tuple(dict.fromkeys(codes)), _CODE.sub(" ", text)


def understand(text: str, *, last_prompt: str | None = None) -> Reading:
    """Classify a free-text reply about one task; `last_prompt` is the kind of bot message it answers."""
    original = text.strip() if isinstance(text, str) else ""
    codes, body = task_codes(original[:8192])
    reading = _read(body, original, last_prompt)
    return replace(reading, codes=codes) if codes else reading


def _read(body: str, original: str, last_prompt: str | None) -> Reading:
    tokens = canonical_tokens(body)
    if not any(t not in lx.PUNCT for t in tokens):
        return Reading("question", reason=original, confident=False) if "?" in tokens else UNCLEAR
    statements: list[cl.Clause] = []
    questions: list[str] = []
    summary_from = None
    for i, sentence in enumerate(cl.sentences(tokens)):
        question = cl.is_question(sentence)
        parts = cl.split(sentence, i, question)
        if question:
            questions.append(" ".join(w for c in parts for w in c.words))
            continue
        if summary_from is None and any(lx.SUMMARY.search(c.text) for c in parts):
            summary_from = len(statements)
        statements.extend(parts)

    correction = any(lx.CORRECTION.search(c.text) for c in statements)
    chatter = [c for c in statements if lx.CHATTER.search(c.text) or lx.CORRECTION.search(c.text)]
    other_matter = any(lx.OTHER_MATTER.search(c.text) for c in statements)
    kept = [c for c in statements if c not in chatter]
    for clause in kept:
        cl.mark(clause, blocker_of)
    flags = set().union(*(c.flags for c in kept)) if kept else set()

    reading = _status_of(kept, original, last_prompt)
    if summary_from is not None:
        summary = [c for c in kept if statements.index(c) >= summary_from]
        closing = _status_of(summary, original, last_prompt)
        reading = _closing(reading, closing)
    if reading is None or reading.kind == "unclear":
        reading = _plans(flags, kept) or reading
    if reading is None and (chatter or other_matter) and not questions:
        return Reading("chatter", correction=correction)
    reading = _certainty(reading, flags) if reading is not None else None

    if questions:
        if reading is not None and reading.kind not in ("ack", "unclear"):  # a status plus a question: confirm
            reading = replace(reading, confident=False, alternatives=alts(reading, "question"))
        else:
            found = blocker_of(" . ".join(questions))
            if found is not None:  # "Răng chưa thấy kế hoạch gửi về rứa?": asks, and signals a blocker
                reading = Reading("question", reason=original, reason_code=found[0], confident=False,
                                  alternatives=("blocked",))
            else:
                reading = Reading("question", reason=original)
    reading = reading or UNCLEAR
    return replace(reading, correction=True) if correction and reading.kind != "unclear" else reading


def _status_of(clauses: list[cl.Clause], original: str, last_prompt: str | None) -> Reading | None:
    if not clauses:
        return None
    text, last = [], None
    for c in clauses:
        if last is not None:
            text.append("." if c.sentence != last else ",")
        text.extend(c.words)
        last = c.sentence
    return status(" ".join(text), original, last_prompt)


def _closing(detail: Reading | None, closing: Reading | None) -> Reading | None:
    """The closing assessment decides; an explicit blocker in the detail still counts."""
    if closing is None or closing.kind in ("unclear", "ack"):
        return detail
    if detail is not None and detail.kind == "blocked" and detail.confident and closing.kind != "blocked":
        return replace(detail, confident=False, alternatives=alts(detail, closing.kind))
    if closing.kind == "progress" and closing.percent is None and detail is not None and detail.percent is not None:
        return replace(closing, percent=detail.percent if detail.percent < 100 else None)
    return closing


def _plans(flags: set[str], clauses: list[cl.Clause]) -> Reading | None:
    """Nothing but a plan or a wish: progress (a future completion), or unsure (a condition or irony)."""
    if "cdone" in flags:
        return Reading("progress", confident=False, alternatives=("blocked",))
    if "fdone" in flags or "fwork" in flags:
        return Reading("progress")
    return None


def _certainty(reading: Reading, flags: set[str]) -> Reading:
    if reading.kind == "done" and reading.confident:
        doubt = {"hedge", "dneg", "irony", "cdone"} & flags and "plain" not in flags or "irony" in flags
        if doubt:
            return replace(reading, confident=False, alternatives=alts(reading, "progress"))
    elif "irony" in flags and reading.confident and reading.kind in ("progress", "blocked", "unblocked"):
        return replace(reading, confident=False, alternatives=alts(reading, "progress", "blocked"))
    return reading
