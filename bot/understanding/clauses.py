"""Sentences and clauses of a reply, each read for modality before any status word is trusted.

A clause is a run of words between sentence ends, commas and conjunctions ("nhưng", "vì", "nên",
"tuy nhiên", "hóa ra"). `mark(clause)` rewrites what a status word means in its clause:
- in a future or hoped-for clause ("chắc thứ 6 mới xong", "mong kịp xong"), a completion word
  becomes `fdone` and a work verb ("mai em triển khai") `fwork`: a plan, never a completion;
- in a conditional or ironic clause ("xong được thì tốt quá", "nếu có kinh phí thì mai xong")
  it becomes `cdone`: no status of its own, and whatever else is read is not sure;
- a double negation ("không phải là chưa xong") becomes a plain `xong`, marked as hedged;
- a hedge ("chắc là", "hình như", "thì phải") keeps the word and marks it hedged.
Clauses that say something about a blocker are left as they are ("nhà in hẹn thứ 6 mới giao").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.understanding import lexicon as lx

_DONE_TOKEN = re.compile(
    r"\b(?:xong xuoi|xong|hoan thanh|hoan tat|hoan thien|done|finished|finish|complete|completed)\b"
)
_QUESTION_WORDS = frozenset({"qa"})


@dataclass
class Clause:
    words: list[str]
    sentence: int
    question: bool = False
    summary: bool = False
    flags: set[str] = field(default_factory=set)  # future fdone fwork irony cdone hedge dneg plain

    @property
    def text(self) -> str:
        return " ".join(self.words)


def sentences(tokens: list[str]) -> list[list[str]]:
    out, current = [], []
    for tok in tokens:
        current.append(tok)
        if tok in lx.SENTENCE_END:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return [s for s in out if any(t not in lx.PUNCT for t in s)]


def is_question(sentence: list[str]) -> bool:
    if "?" in sentence:
        return True
    words = " ".join(t for t in sentence if t not in lx.PUNCT)
    if lx.WHEN_THEN.search(words) or lx.DENIED.search(words):  # "khi nào có … thì", "xong đâu mà xong"
        return False
    return bool(
        lx.QUESTION.search(words)
        or lx.QUESTION_TAIL.search(words)
        or lx.QUESTION_HAY.search(words)
        or lx.QUESTION_TAG.search(words)
    )


def split(sentence: list[str], index: int, question: bool) -> list[Clause]:
    out: list[Clause] = []
    current: list[str] = []
    words = [t for t in sentence if t not in lx.SENTENCE_END and t not in _QUESTION_WORDS]
    i = 0
    while i < len(words):
        two = " ".join(words[i : i + 2])
        brk = 2 if two in lx.CLAUSE_BREAK else 1 if words[i] in lx.CLAUSE_BREAK else 0
        if words[i] in (",", ":") or (brk and current):
            if current:
                out.append(Clause(current, index, question))
            current = [] if words[i] in (",", ":") else words[i : i + brk]
            i += max(brk, 1)
            continue
        current.append(words[i])
        i += 1
    if current:
        out.append(Clause(current, index, question))
    return out


def mark(clause: Clause, has_blocker) -> None:
    """Rewrite the clause's status words by its modality (see the module docstring); sets `flags`."""
    text = clause.text
    if lx.DENIED.search(text):  # "xong đâu mà xong": not done
        text = lx.DENIED.sub(" chua xong ", text)
    after = lx.AFTER.search(text)
    if after and not {"da", "vua"} & set(text[: after.start()].split()[-2:]):  # "xong việc này em làm việc kia"
        text = _DONE_TOKEN.sub("fdone", text)
        clause.flags.update({"future", "fdone"})
    if lx.DOUBLE_NEG.search(text):
        text = lx.DOUBLE_NEG.sub(" xong ", text)
        clause.flags.add("dneg")
    done = bool(_DONE_TOKEN.search(text)) and not lx.NOT_DONE.search(text)
    future = bool(
        lx.FUTURE.search(text) or lx.HOPE.search(text) or (lx.FUTURE_WEAK.search(text) and not lx.PAST.search(text))
    )
    modal = bool(lx.CONDITION.search(text) or lx.IRONY.search(text))
    if (future or modal) and has_blocker(text):  # "nhà in hẹn thứ 6 mới giao": a blocker, keep it whole
        future = modal = False
    if modal:
        clause.flags.add("irony")
        if done:
            text = _DONE_TOKEN.sub("cdone", text)
            clause.flags.add("cdone")
    elif future:
        clause.flags.add("future")
        if done:
            text = _DONE_TOKEN.sub("fdone", text)
            clause.flags.add("fdone")
        elif lx.FUTURE_WORK.search(text) and not lx.STRONG_PROGRESS.search(text):
            text = lx.FUTURE_WORK.sub("fwork", text)
            clause.flags.add("fwork")
    elif done and (lx.HEDGE.search(text) or lx.MEETING_DONE.search(text)):
        clause.flags.add("hedge")
    elif done and "dneg" not in clause.flags:
        clause.flags.add("plain")
    clause.words = text.split()
