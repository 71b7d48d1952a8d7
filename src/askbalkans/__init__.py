"""AskBalkans: extractive, cited answers to questions over a news corpus.

    from askbalkans import ask
    answer = ask("How many troops serve in KFOR?")
    print(answer.text)

Names are imported on first use, so that `askbalkans --help` does not load the model libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from askbalkans.answer import Answer, Citation, Quote
    from askbalkans.assistant import Assistant, ask
    from askbalkans.config import Settings
    from askbalkans.errors import AskBalkansError, SettingError

_HOMES = {
    "Answer": "askbalkans.answer",
    "Citation": "askbalkans.answer",
    "Quote": "askbalkans.answer",
    "Assistant": "askbalkans.assistant",
    "ask": "askbalkans.assistant",
    "Settings": "askbalkans.config",
    "AskBalkansError": "askbalkans.errors",
    "SettingError": "askbalkans.errors",
}
__all__ = ["Answer", "AskBalkansError", "Assistant", "Citation", "Quote", "SettingError", "Settings", "ask"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'askbalkans' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
