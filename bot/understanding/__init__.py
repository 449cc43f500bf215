"""Free-text status replies: what a contact meant when answering a bot message about one task.

One pure function for Telegram, Zalo and the local chat: `understand(text, last_prompt=...)`
returns a `Reading`. Pipeline: `normalise` (diacritics, telex slips, teencode, dialect, number
words) → `clauses` (split, modality) → `read` (status, quantity via `quantity`, blockers,
negation) → `combine` (the stated rules). `confident=False` means ask back, never act; a done
is only confident when nothing lowers it.
"""

from bot.understanding.combine import task_codes, understand
from bot.understanding.read import REASON_CODES, Reading

__all__ = ["Reading", "understand", "task_codes", "REASON_CODES"]
