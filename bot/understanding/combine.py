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
   to "confirm first" (`confident=False`, alternatives progress); so does a message so long that
   only its first and last sentences were read (≈ 16 sentences; status replies are far shorter).
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.understanding import clauses as cl
from bot.understanding import lexicon as lx
from bot.understanding.normalise import canonical_tokens
from bot.understanding.read import PROGRESS_PROMPTS, UNCLEAR, Reading, alts, blocker_of, status

_MAX_WORDS = 60  # a run-on "sentence" without punctuation is read in pieces of this many words
_HEAD, _TAIL = 8, 8  # a message longer than that many pieces is read by its first and last ones
_HEAD_CHARS = _TAIL_CHARS = 600  # and never more than this many characters from each end

# A task code as people type it: "NC-05", "cb-12", "NC05" (capitals only without the dash).
_CODE = re.compile(r"(?<![\w-])(?:([A-Za-zĐđ]{1,5})-(\d{1,3})|([A-Z]{2,5})(\d{2,3}))(?![\w-])")


def task_codes(text: str) -> tuple[tuple[str, ...], str]:
    """(codes written in the text as "XX-NN", upper case, at least two digits; the text with them blanked out)."""
    codes = [f"{(m.group(1) or m.group(3)).upper()}-{int(m.group(2) or m.group(4)):02d}" for m in _CODE.finditer(text)]
    return tuple(dict.fromkeys(codes)), _CODE.sub(" ", text)


def _ends(text: str) -> str:
    """A very long message is read by its opening and its closing, each cut at a space."""
    if len(text) <= _HEAD_CHARS + _TAIL_CHARS:
        return text
    head, tail = text[:_HEAD_CHARS], text[-_TAIL_CHARS:]
    head = head[: head.rfind(" ")] if " " in head else head
    tail = tail[tail.find(" ") + 1 :] if " " in tail else tail
    return f"{head}.\n{tail}"


def understand(text: str, *, last_prompt: str | None = None) -> Reading:
    """Classify a free-text reply about one task; `last_prompt` is the kind of bot message it answers."""
    original = text.strip() if isinstance(text, str) else ""
    codes, body = task_codes(_ends(original))
    reading = _read(body, original, last_prompt)
    return replace(reading, codes=codes) if codes else reading


def _read(body: str, original: str, last_prompt: str | None) -> Reading:
    tokens = canonical_tokens(body)
    if not any(t not in lx.PUNCT for t in tokens):
        return Reading("question", reason=original, confident=False) if "?" in tokens else UNCLEAR
    if all(t in lx.LAUGHTER or t in lx.PUNCT for t in tokens):
        return Reading("chatter")
    words = [t for t in tokens if t not in lx.PUNCT and t not in lx.PARTICLES]
    if len(words) == 1 and words[0].isdigit() and last_prompt not in PROGRESS_PROMPTS and "%" not in tokens:
        # A number alone, not after a question about progress: a choice that is not on offer
        # ("7" with four buttons), a count? Taking it as a percent would record what was not said.
        return Reading("unclear", confident=False, hint="bare_number")
    statements: list[cl.Clause] = []
    questions: list[str] = []
    summary_from = None
    tagged = False  # a statement ending in "à/hả": confirm whatever it says
    pieces = [s[i : i + _MAX_WORDS] for s in cl.sentences(tokens) for i in range(0, len(s), _MAX_WORDS)]
    skipped = len(pieces) > _HEAD + _TAIL or len(original) > _HEAD_CHARS + _TAIL_CHARS
    if skipped:  # a very long message: its opening and its closing (where the assessment sits)
        pieces = pieces[:_HEAD] + pieces[-_TAIL:]
    for i, sentence in enumerate(pieces):
        question = cl.is_question(sentence)
        parts = cl.split(sentence, i, question)
        if question:  # a clause that says something ("mần chưa xong, răng rứa") is a statement to confirm
            asked = [c for n, c in enumerate(parts) if n == len(parts) - 1 or cl.is_question(c.words)]
            questions.append(" ".join(w for c in asked for w in c.words))
            parts = [c for c in parts if all(c is not q for q in asked)]
            if not parts:
                continue
            tagged = True
        if lx.TAG_PARTICLE.search(" ".join(t for t in sentence if t not in lx.PUNCT)):
            tagged = True
        if summary_from is None and any(lx.SUMMARY.search(c.text) for c in parts):
            summary_from = len(statements)
        statements.extend(parts)

    correction = any(lx.CORRECTION.search(c.text) for c in statements)
    chatter = {id(c) for c in statements if lx.CHATTER.search(c.text) or lx.CORRECTION.search(c.text)}
    other_matter = any(lx.OTHER_MATTER.search(c.text) for c in statements)
    kept = [c for c in statements if id(c) not in chatter]
    for clause in kept:
        cl.mark(clause, blocker_of)
    flags = set().union(*(c.flags for c in kept)) if kept else set()

    reading = _status_of(kept, original, last_prompt)
    if summary_from is not None:
        late = {id(c) for c in statements[summary_from:]}
        summary = [c for c in kept if id(c) in late]
        closing = _status_of(summary, original, last_prompt)
        reading = _closing(reading, closing)
    if reading is None or reading.kind == "unclear":
        reading = _plans(flags, kept) or reading
    if reading is None and (chatter or other_matter) and not questions:
        return Reading("chatter", correction=correction)
    reading = _certainty(reading, flags | ({"skipped"} if skipped else set())) if reading is not None else None

    if tagged and reading is None:
        return Reading("question", reason=original, confident=False)
    if questions or tagged:
        if reading is not None and reading.kind not in ("ack", "unclear"):  # a status plus a question: confirm
            reading = replace(reading, confident=False, alternatives=alts(reading, "question"))
        else:
            found = blocker_of(" . ".join(questions))
            if found is not None:  # "Răng chưa thấy kế hoạch gửi về rứa?": asks, and signals a blocker
                reading = Reading(
                    "question", reason=original, reason_code=found[0], confident=False, alternatives=("blocked",)
                )
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
    if "cdone" in flags or "irony" in flags:  # "khi nào có kinh phí thì em làm"
        return Reading("progress", confident=False, alternatives=("blocked",))
    if "fwork" in flags and "fdone" not in flags and any(lx.ACK_ONLY.fullmatch(c.text) for c in clauses):
        return Reading("ack")  # "vâng ạ, em sẽ làm ngay": taken on, to be started
    if "fdone" in flags or "fwork" in flags:
        return Reading("progress")
    return None


def _certainty(reading: Reading, flags: set[str]) -> Reading:
    """Done needs certainty: a completion only in a future/hoped/conditional/ironic clause is not done."""
    if reading.kind == "done" and "plain" not in flags and {"future", "irony"} & flags:
        if "irony" in flags:
            return Reading("progress", confident=False, alternatives=("done", "blocked"))
        return Reading("progress")  # "mai đã in đủ 600/600": a plan
    if reading.kind == "done" and reading.confident:
        if {"hedge", "dneg"} & flags and "plain" not in flags or {"irony", "skipped"} & flags:
            return replace(reading, confident=False, alternatives=alts(reading, "progress"))
    elif "irony" in flags and reading.confident and reading.kind in ("progress", "blocked", "unblocked"):
        return replace(reading, confident=False, alternatives=alts(reading, "progress", "blocked"))
    return reading
