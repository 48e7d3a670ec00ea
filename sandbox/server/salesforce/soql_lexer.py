"""Tokens of the SOQL subset the sandbox understands, with positions for Salesforce-style error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.server.salesforce.errors import SfApiError


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | datetime | date | dateliteral | op | ( | ) | , | eof
    text: str
    pos: int

    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[-+]?\d+(?:\.\d+)?(?![\w.]))
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<dateliteral>[A-Za-z_]+:\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)

# Escapes SOQL accepts in string literals; \% and \_ stay escaped for LIKE (SQLite uses ESCAPE '\').
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def position(soql: str, pos: int) -> tuple[int, int]:
    """1-based (row, column) as Salesforce reports them."""
    before = soql[:pos]
    return before.count("\n") + 1, pos - (before.rfind("\n") + 1) + 1


def malformed(soql: str, pos: int, message: str, code: str = "MALFORMED_QUERY") -> SfApiError:
    """Salesforce echoes the query, a caret and the position before the reason."""
    row, col = position(soql, pos)
    line = soql.split("\n")[row - 1]
    return SfApiError(400, code, f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}")


def unescape(soql: str, token: Token, *, like: bool = False) -> str:
    """The literal's value; with ``like`` a backslash stays escaped for SQLite's ``ESCAPE '\\'``."""
    body = token.text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt in "%_" or (like and nxt == "\\"):
                out.append("\\" + nxt)
            elif nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:
                raise malformed(
                    soql,
                    token.pos + i + 1,
                    f"Invalid string literal '{token.text}'. Illegal character sequence '\\{nxt}' in string literal.",
                )
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(soql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        m = _TOKEN_RE.match(soql, pos)
        if not m:
            raise malformed(soql, pos, f"unexpected token: '{soql[pos:].split()[0]}'")
        kind = m.lastgroup or ""
        if kind == "punct":
            kind = m.group()
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", len(soql)))
    return tokens
