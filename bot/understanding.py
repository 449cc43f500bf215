"""Free-text status replies: what a contact meant when answering a bot message about one task.

`understand(text, last_prompt=...)` is pure (no I/O). It reads Vietnamese with or without
diacritics, chat abbreviations, Nghệ–Tĩnh dialect and plain English, and says how sure it is:
a `Reading` with `confident=False` means the bot must ask back with choices (the kind first,
then `alternatives`) instead of acting. Word lists live in `bot._understanding_lexicon`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from bot import _understanding_lexicon as lx

Kind = Literal["done", "progress", "blocked", "unblocked", "question", "ack", "unclear"]
REASON_CODES = ("budget", "dependency", "approval", "vendor", "staffing", "weather", "equipment", "time",
                "missing_input", "approver_away", "other")
ASKED_DONE_PROMPTS = frozenset({"asked_done", "checkin"})
ASSIGNMENT_PROMPTS = frozenset({"assignment", "ack_request"})

__all__ = ["Reading", "understand", "REASON_CODES"]


@dataclass(frozen=True)
class Reading:
    kind: Kind
    percent: int | None = None  # progress 0..100; done → 100
    reason: str | None = None  # blocked: the user's own words (trimmed); question: the text
    reason_code: str | None = None  # one of REASON_CODES (blocked; also a question that signals a blocker)
    confident: bool = True  # False → ask back with choices instead of acting
    alternatives: tuple[str, ...] = ()  # other plausible kinds when not confident


UNCLEAR = Reading("unclear", confident=False)


def understand(text: str, *, last_prompt: str | None = None) -> Reading:
    """Classify a free-text reply about one task; `last_prompt` is the kind of bot message it answers."""
    original = text.strip() if isinstance(text, str) else ""
    tokens = lx.canonical_tokens(original)
    if not any(t not in lx.PUNCT for t in tokens):
        return Reading("question", reason=original, confident=False) if "?" in tokens else UNCLEAR
    questions, statements = [], []
    for sentence in _sentences(tokens):
        (questions if _is_question(sentence) else statements).append(" ".join(t for t in sentence if t != "?"))
    status = _status(" . ".join(statements), original, last_prompt) if statements else None
    if not questions:
        return status or UNCLEAR
    if status is not None and status.kind not in ("ack", "unclear"):  # a status plus a question: confirm first
        return replace(status, confident=False, alternatives=_alts(status, "question"))
    blocker = _blocker(" . ".join(questions))
    if blocker is not None:  # "Răng chưa thấy kế hoạch gửi về rứa?": asks, and signals a blocker
        return Reading("question", reason=original, reason_code=blocker[0], confident=False, alternatives=("blocked",))
    return Reading("question", reason=original)


def _alts(reading: Reading, *kinds: str) -> tuple[str, ...]:
    out = list(reading.alternatives)
    for kind in kinds:
        if kind != reading.kind and kind not in out:
            out.append(kind)
    return tuple(out)


def _sentences(tokens: list[str]) -> list[list[str]]:
    out, current = [], []
    for tok in tokens:
        current.append(tok)
        if tok in lx.SENTENCE_END:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return [s for s in out if any(t not in lx.PUNCT for t in s)]


def _is_question(sentence: list[str]) -> bool:
    if sentence[-1] == "?" or "?" in sentence:
        return True
    words = " ".join(t for t in sentence if t not in lx.PUNCT)
    return bool(lx.QUESTION.search(words) or lx.QUESTION_TAIL.search(words) or lx.QUESTION_HAY.search(words))


# ---------------------------------------------------------------- percent
_PCT = re.compile(r"(?<![\w./])(\d{1,3}(?:\.\d+)?) ?(?:%|phan tram|percent|pc|pct)(?!\w)")
_FRACTION = re.compile(r"(?<![\w./])(\d{1,9})/(\d{1,9})(?![\w/])")
_TENTHS = re.compile(r"(?<![\w./])(\d{1,2}) phan(?! tram)(?: (\d{1,2})\b)?")
_HALF = re.compile(r"\b(?:mot half|half|mot nua)\b")
_APPROX = re.compile(r"\b(?:tam|khoang|chung|dat|duoc|xap xi|around|about|approx|approximately|roughly|hon|gan|~)"
                     r" (\d{1,3})(?: (?:roi|a|anh|chi|nhe|nha|thoi|\.|,|;))*(?: \.)?$|^(\d{1,3})(?: (?:a|roi|\.))*$")


def _percent(s: str) -> tuple[int | None, bool]:
    """(percent, exact) from canonical text; dates such as "hẹn 3/6" are not fractions."""
    m = _PCT.search(s)
    if m and float(m.group(1)) <= 100:
        return round(float(m.group(1))), True
    words = s.split()
    for i, word in enumerate(words):
        fm = _FRACTION.fullmatch(word)
        if not fm:
            continue
        a, b = int(fm.group(1)), int(fm.group(2))
        if i > 0 and words[i - 1] in lx.DATE_CONTEXT or not 0 < b <= 1000 or a > b:
            continue
        return round(100 * a / b), True
    m = _TENTHS.search(s)
    if m:
        a, b = int(m.group(1)), int(m.group(2) or 10)
        if 0 < b and a <= b:
            return round(100 * a / b), m.group(2) is not None
    if _HALF.search(s):
        return 50, True
    for clause in re.split(r" [.;!] ", s):
        m = _APPROX.search(clause.strip())
        if m and int(m.group(1) or m.group(2)) <= 100:
            return int(m.group(1) or m.group(2)), False
    return None, False


# ---------------------------------------------------------------- blockers
def _blocker(s: str) -> tuple[str, int] | None:
    """(reason_code, strength 1..2) when `s` (canonical, cleared blockers removed) reports a blocker."""
    strength = 0
    if lx.BLOCK_GENERIC.search(s):
        strength = 2
    if lx.WAIT.search(s):
        strength = max(strength, 1 if lx.WAIT_SOFT.search(s) else 2)
    for pattern, level in lx.INHERENT:
        if pattern.search(s):
            strength = max(strength, level)
    if lx.LATER_ONLY.search(s) or lx.LACKING.search(s):
        strength = max(strength, 1)
    code = next((c for c, pattern in lx.REASON_KEYWORDS if pattern.search(s)), "other")
    if lx.INABILITY.search(s):
        strength = max(strength, 2 if code != "other" else 1)
    return (code, strength) if strength else None


# ---------------------------------------------------------------- status
def _status(s: str, original: str, last_prompt: str | None) -> Reading | None:
    cleared = bool(lx.CLEARED.search(s))
    noblock = bool(lx.NOBLOCK.search(s))
    s = lx.NOBLOCK.sub(" noblock ", lx.CLEARED.sub(" cleared ", lx.HOLD_ON.sub(" ", s)))
    s = " ".join(s.split())
    pct, exact = _percent(s)
    not_done = bool(lx.NOT_DONE.search(s))
    near = bool(lx.NEAR_DONE.search(s))
    future = bool(lx.FUTURE_DONE.search(s))
    done_cue = not (not_done or near or future) and bool(lx.DONE.search(s) or lx.DONE_VERB.search(s))
    partial = done_cue and bool(lx.PARTIAL_DONE.search(s))
    blocker = _blocker(s)

    if blocker is not None:
        code, strength = blocker
        reading = Reading("blocked", percent=pct if pct is not None and pct < 100 else None, reason=original,
                          reason_code=code, confident=strength >= 2)
        if done_cue:  # "phần bên em xong rồi, còn chờ Điện lực": their part only
            reading = replace(reading, confident=False, alternatives=_alts(reading, "done"))
        if strength < 2 or (lx.STRONG_PROGRESS.search(s) and not reading.confident):
            reading = replace(reading, confident=False, alternatives=_alts(reading, "progress"))
        return reading
    if cleared:
        return Reading("unblocked", percent=pct if pct != 100 else None)
    if pct == 100 and exact and not not_done:
        return Reading("done", percent=100)
    if not_done:
        return Reading("progress", percent=pct if pct != 100 else None, confident=pct is None or exact)
    if near:
        return Reading("progress", percent=pct if pct is not None else 90, confident=False, alternatives=("done",))
    if pct is not None and pct < 100:
        return Reading("progress", percent=pct, confident=exact)
    if partial:
        return Reading("progress", confident=False, alternatives=("done",))
    if future or lx.STRONG_PROGRESS.search(s):
        return Reading("progress")
    if done_cue:
        ht_only = not lx.DONE_VERB.search(s) and not re.search(r"\b(?!ht\b)" + lx.DONE.pattern, s)
        return Reading("done", percent=100, confident=not ht_only, alternatives=("progress",) if ht_only else ())
    if lx.NOT_STARTED.search(s):
        return Reading("progress", percent=0, confident=False, alternatives=("blocked",))
    if noblock or lx.WEAK_PROGRESS.search(s):
        return Reading("progress")
    return _short_answer(s, last_prompt)


def _short_answer(s: str, last_prompt: str | None) -> Reading | None:
    """"ok", "rồi", "vâng", "chưa", "em nhận": meaning depends on what the bot asked."""
    words = [w for w in s.replace("dong y", "ok").split() if w not in lx.PUNCT and w not in lx.PARTICLES]
    if lx.ACK_EXPLICIT.search(s):
        return Reading("ack")
    if words and set(words) <= {"chua", "van chua"}:
        return Reading("progress")
    if words and set(words) <= {"khong"}:
        return Reading("progress", confident=False, alternatives=("blocked",))
    if not words or not set(words) <= lx.ACK_WORDS:
        return Reading("ack") if not words and "thanks" in s else None
    if set(words) == {"thanks"}:
        return Reading("ack")
    says_already = "roi" in words
    if last_prompt in ASKED_DONE_PROMPTS:
        sure = says_already or "yes" in words
        return Reading("done", percent=100, confident=sure, alternatives=() if sure else ("ack",))
    if last_prompt in ASSIGNMENT_PROMPTS:
        return Reading("ack")
    if says_already:  # "rồi" after a reminder or out of context: most likely "already done"
        return Reading("done", percent=100, confident=False, alternatives=("ack",))
    if last_prompt is not None:
        return Reading("ack")
    return Reading("ack", confident=False, alternatives=("done",))
