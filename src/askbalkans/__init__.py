"""AskBalkans: extractive, cited answers to questions over a news corpus.

from askbalkans import ask
answer = ask("How many troops serve in KFOR?")
print(answer.text)
"""

from askbalkans.assistant import Assistant, ask
from askbalkans.composer import Answer, Citation, Quote
from askbalkans.config import Settings

__all__ = ["Answer", "Assistant", "Citation", "Quote", "Settings", "ask"]
