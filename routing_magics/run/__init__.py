"""The flows both shells share, over the Session: today one prompt → one answer (single.py),
with the answer being built kept in draft.py.
"""

from .draft import AnswerDraft
from .single import RunOptions, run_prompt

__all__ = ["AnswerDraft", "RunOptions", "run_prompt"]
