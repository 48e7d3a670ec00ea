"""The one exception type a person running crm-loop is meant to read.

A ``UserError`` is a problem the operator can fix (configuration, a file, a query, a locked warehouse). Its message is
one line that names the cause and what to change; the command line prints only that line (``--debug`` adds the
traceback), so code raising it must not rely on a traceback to explain itself. It lives at the root of the import
layers so that every layer can raise it.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person running crm-loop can fix, described in one line."""

    def __init__(self, message: str) -> None:
        if "\n" in message:
            raise ValueError("a UserError's message is one line")
        super().__init__(message)
