"""The one exception type for user mistakes.

Anything the user can fix (a bad path, a missing column, an unknown activation) raises
`LayerwiseError` with a one-line message naming *what* and *where*; the CLI prints it and exits
with status 2. Everything else is a bug and is allowed to raise normally.
"""


class LayerwiseError(Exception):
    """A user mistake: one line, naming the file/column/row/layer/key and what was expected."""

    exit_code = 2

    def __init__(self, message: str):
        # Keep it to one line: the CLI contract is "one line, exit 2".
        super().__init__(" ".join(str(message).split()))


class LayerwiseWarning(UserWarning):
    """Something the user should know that does not stop the work (an unseen category, a column
    that looks like a row ID). The CLI prints it as one line, 'warning: ...'."""


def warn(message: str) -> None:
    import warnings

    warnings.warn(" ".join(str(message).split()), LayerwiseWarning, stacklevel=3)
