"""Reading one stretch of canonical text for a status: done, progress, blocked, unblocked, ack.

`status(s, original, last_prompt)` applies the word-level rules (explicit percent beats implied,
"chưa xong" is not done, a blocker beats progress, a bare "rồi"/"ok" means what the bot asked);
`combine` calls it on the clauses that are left once modality has been read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from bot.understanding import lexicon as lx
from bot.understanding.quantity import percent as _percent

Kind = Literal["done", "progress", "blocked", "unblocked", "question", "ack", "chatter", "unclear"]
REASON_CODES = (
    "budget",
    "dependency",
    "approval",
    "vendor",
    "staffing",
    "weather",
    "equipment",
    "time",
    "missing_input",
    "approver_away",
    "other",
)
ASKED_DONE_PROMPTS = frozenset({"asked_done", "checkin"})
ASSIGNMENT_PROMPTS = frozenset({"assignment", "ack_request"})
# Bot messages that ask how far the work is ("cập nhật giúp tình hình", "báo cáo tiến độ"): after one,
# a bare "70" is a percent; anywhere else it is more likely a mistyped choice or a count than a percent.
PROGRESS_PROMPTS = frozenset({"reminder", "due", "overdue", "percent"})


@dataclass(frozen=True)
class Reading:
    """What a reply says about its task. `confident=False`: ask back (the kind first, then `alternatives`)."""

    kind: Kind
    percent: int | None = None  # progress 0..100; done → 100
    reason: str | None = None  # blocked: the user's own words (trimmed); question: the text
    reason_code: str | None = None  # one of REASON_CODES (blocked; also a question that signals a blocker)
    confident: bool = True  # False → ask back with choices instead of acting
    alternatives: tuple[str, ...] = ()  # other plausible kinds when not confident
    codes: tuple[str, ...] = ()  # task codes written in the text ("NC-07"): they decide the task
    correction: bool = False  # "em báo nhầm, …": replaces what was reported before
    hint: str | None = None  # why an unclear reading is unclear, when the answer should say it ("bare_number")


UNCLEAR = Reading("unclear", confident=False)


def alts(reading: Reading, *kinds: str) -> tuple[str, ...]:
    out = list(reading.alternatives)
    for kind in kinds:
        if kind != reading.kind and kind not in out:
            out.append(kind)
    return tuple(out)


# ---------------------------------------------------------------- blockers
def blocker_of(s: str) -> tuple[str, int] | None:
    """(reason_code, strength 1..2) when `s` (canonical, cleared blockers removed) reports a blocker."""
    strength = 2 if lx.BLOCK_GENERIC.search(s) or lx.STOPPED.search(s) or lx.PEOPLE_AWAY.search(s) else 0
    if strength < 2 and lx.WAIT.search(s):
        strength = max(strength, 1 if lx.WAIT_SOFT.search(s) else 2)
    for pattern, level in lx.INHERENT:
        if strength < 2 and pattern.search(s):
            strength = max(strength, level)
    if strength < 1 and lx.LATER_ONLY.search(s):
        strength = 1
    if strength < 2 and lx.LACKING.search(
        s
    ):  # "thiếu ghế": an unusual reason is still a reason; "còn thiếu" may be partial
        left = re.search(r"\bcon (?:\w+ )?thieu\b(?! (?:\d|mot half|half))", s)  # "còn thiếu một nửa": what is left
        strength = max(strength, 0 if re.search(r"\bcon (?:\w+ )?thieu (?:\d|mot half|half)", s) else 1 if left else 2)
    # (stopped work and people away are blockers with or without a reason: tested first, above)
    if strength < 2 and lx.INABILITY.search(s):  # "chưa gặp được chủ nhà hàng": cannot go on, whatever the reason
        strength = 2
    if strength and lx.MINOR.search(s):  # "vướng chút xíu nhưng vẫn làm được"
        strength = 1
    if not strength:
        return None
    return next((c for c, pattern in lx.REASON_KEYWORDS if pattern.search(s)), "other"), strength


# ---------------------------------------------------------------- status
def status(s: str, original: str, last_prompt: str | None) -> Reading | None:
    cleared = bool(lx.CLEARED.search(s))
    noblock = bool(lx.NOBLOCK.search(s))
    s = lx.NOBLOCK.sub(" noblock ", lx.CLEARED.sub(" cleared ", lx.HOLD_ON.sub(" ", s)))
    s = re.sub(r"\bcleared (?:xong|roi|het)\b", "cleared", " ".join(s.split()))  # "đã xử lý xong" is the blocker's
    pct, exact = _percent(s)
    not_done = bool(lx.NOT_DONE.search(s))
    near = bool(lx.NEAR_DONE.search(s))
    future = bool(lx.FUTURE_DONE.search(s))
    done_cue = not (not_done or near or future) and bool(lx.DONE.search(s) or lx.DONE_VERB.search(s))
    partial = done_cue and bool(
        lx.PARTIAL_DONE.search(s)
        or lx.REMAINING.search(s)
        or pct is None
        and lx.COUNT_ONLY.search(s)
        and not lx.WHOLE.search(s)
    )
    blocker = blocker_of(s)

    if blocker is not None:
        code, strength = blocker
        reading = Reading(
            "blocked",
            percent=pct if pct is not None and pct < 100 else None,
            reason=original,
            reason_code=code,
            confident=strength >= 2,
        )
        if done_cue:  # "phần bên em xong rồi, còn chờ Điện lực": their part only
            other = "progress" if pct is not None and pct < 100 else "done"
            reading = replace(reading, confident=False, alternatives=alts(reading, other))
        if strength < 2 or (lx.STRONG_PROGRESS.search(s) and not reading.confident):
            reading = replace(reading, confident=False, alternatives=alts(reading, "progress"))
        return reading
    if cleared and not (done_cue and not partial):  # "hết vướng rồi, đã xong": done, not just unblocked
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
    return short_answer(s, last_prompt)


def short_answer(s: str, last_prompt: str | None) -> Reading | None:
    """ "ok", "rồi", "vâng", "chưa", "em nhận": meaning depends on what the bot asked."""
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
