"""The errors AskBalkans raises for problems a user can fix; anything else is a bug and keeps its traceback."""


class AskBalkansError(Exception):
    """A problem with the user's input, settings or environment; the message says what to do."""


class SettingError(AskBalkansError, ValueError):
    """A setting, argument or environment variable has an invalid value; the message names it."""


class CorpusError(AskBalkansError, FileNotFoundError):
    """The corpus folder is missing or holds nothing to index."""


class StoreError(AskBalkansError):
    """The index store cannot be reached or used (for example a Milvus server that is down)."""


class ReaderError(AskBalkansError):
    """The trained reader's files are missing, corrupt or do not match the installed base model."""


class ArticleError(AskBalkansError):
    """A file or web address given to `askbalkans add` cannot be added to the corpus; the message says why."""
