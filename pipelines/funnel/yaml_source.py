"""Typed reading of a YAML document that remembers where every value came from.

PyYAML's composed node tree keeps a line and column per node; each accessor here checks one type and, when
the file is wrong, raises a ``DefinitionsError`` that points at the offending ``file:line:col`` with the
dotted path of the setting, so a sales or marketing leader editing the file sees exactly what to fix.

Strings are read from the source text, not from YAML 1.1's type guessing, so ``NO`` (Norway) stays ``"NO"``
and ``9:00`` does not silently become the sexagesimal integer 540.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class Problem:
    source: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class DefinitionsError(ValueError):
    """One or more mistakes in a definitions file; ``problems`` keeps each one's position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _describe(value: Any) -> str:
    return "nothing" if value is None else repr(value)


@dataclass(frozen=True)
class Node:
    """A YAML node plus its dotted path (``sla.first_touch.inside_hours``) and file name."""

    node: yaml.Node
    path: str
    source: str

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    @property
    def column(self) -> int:
        return int(self.node.start_mark.column) + 1

    def problem(self, message: str) -> DefinitionsError:
        return DefinitionsError([Problem(self.source, self.line, self.column, message)])

    def _child(self, node: yaml.Node, suffix: str) -> Node:
        return Node(node, f"{self.path}.{suffix}" if self.path else suffix, self.source)

    # --- structure ---------------------------------------------------------------------------------------
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == _NULL

    def entries(self) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) in file order; keys must be unique plain strings."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.problem(
                f"{self.path or 'the file'} must be a mapping of 'name: value' lines, got {self._kind()}"
            )
        seen: dict[str, int] = {}
        out = []
        for key_node, value_node in self.node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise Node(key_node, self.path, self.source).problem(
                    f"keys in {self.path or 'the file'} must be plain names"
                )
            key = str(key_node.value)
            key_at = self._child(key_node, key)
            if key in seen:
                raise key_at.problem(f"{key_at.path} is given twice (first on line {seen[key]})")
            seen[key] = key_at.line
            out.append((key, key_at, self._child(value_node, key)))
        return out

    def fields(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Node]:
        """A mapping with a fixed set of keys: unknown keys (typos) and missing required ones are errors."""
        allowed = required + optional
        out: dict[str, Node] = {}
        for key, key_at, value in self.entries():
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; expected one of: {', '.join(allowed)}"
                raise key_at.problem(f"unknown key '{key}' in {self.path or 'the file'}{suggestion}")
            out[key] = value
        missing = [k for k in required if k not in out]
        if missing:
            where = self.path or "the file"
            raise self.problem(f"{where} is missing required {'section' if not self.path else 'key'} '{missing[0]}'")
        return out

    def items(self) -> list[Node]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.problem(f"{self.path} must be a list ('- item' lines or [a, b]), got {self._kind()}")
        return [Node(n, f"{self.path}[{i}]", self.source) for i, n in enumerate(self.node.value)]

    def string_list(self) -> tuple[str, ...]:
        """A list of strings; a single string is accepted as a one-item list."""
        if isinstance(self.node, yaml.ScalarNode) and not self.is_null():
            return (self.string(),)
        return tuple(item.string() for item in self.items())

    # --- scalars -----------------------------------------------------------------------------------------
    def _kind(self) -> str:
        if isinstance(self.node, yaml.MappingNode):
            return "a mapping"
        if isinstance(self.node, yaml.SequenceNode):
            return "a list"
        return _describe(self._value())

    def _value(self) -> Any:
        return SafeConstructor().construct_object(self.node, deep=True)

    def string(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode) or self.is_null() or str(self.node.value).strip() == "":
            raise self.problem(f"{self.path} must be a text value, got {self._kind()}")
        return str(self.node.value)

    def number(self) -> float:
        if isinstance(self.node, yaml.ScalarNode) and self.node.tag in (_INT, _FLOAT):
            value = float(self._value())
            if value == value and abs(value) != float("inf"):
                return value
        raise self.problem(f"{self.path} must be a number, got {self._kind()}")

    def integer(self) -> int:
        if isinstance(self.node, yaml.ScalarNode) and self.node.tag == _INT:
            return int(self._value())
        raise self.problem(f"{self.path} must be a whole number, got {self._kind()}")

    def boolean(self) -> bool:
        if isinstance(self.node, yaml.ScalarNode) and self.node.tag == _BOOL:
            return bool(self._value())
        raise self.problem(f"{self.path} must be true or false, got {self._kind()}")

    def day(self) -> date:
        if isinstance(self.node, yaml.ScalarNode):
            if self.node.tag == _TIMESTAMP:
                value = self._value()
                if type(value) is date:
                    return value
            else:
                try:
                    return date.fromisoformat(str(self.node.value))
                except ValueError:
                    pass
        raise self.problem(f"{self.path} must be a date written YYYY-MM-DD, got {self._kind()}")

    def choice(self, allowed: tuple[str, ...] | frozenset[str], what: str) -> str:
        value = self.string()
        if value not in allowed:
            hint = difflib.get_close_matches(value, sorted(allowed), n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; expected one of: {', '.join(sorted(allowed))}"
            raise self.problem(f"{self.path}: unknown {what} '{value}'{suggestion}")
        return value


def compose(text: str, source: str) -> Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise DefinitionsError([Problem(source, line, column, f"not valid YAML: {exc.problem or exc}")]) from exc
    if root is None:
        raise DefinitionsError([Problem(source, 1, 1, "the file is empty")])
    return Node(root, "", source)


def plain(node: yaml.Node) -> Any:
    """The document as plain JSON-able data, for hashing its normalised content.

    Numbers are normalised (``1``, ``1.0`` and ``1_000``-style spellings of one value hash alike), dates become
    ISO text and every other scalar keeps its source text, as the typed readers above do.
    """
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [plain(v) for v in node.value]
    if node.tag in (_INT, _FLOAT):
        return float(SafeConstructor().construct_object(node, deep=True))
    if node.tag == _TIMESTAMP:
        return SafeConstructor().construct_object(node, deep=True).isoformat()
    if node.tag == _NULL:
        return None
    return str(node.value)
