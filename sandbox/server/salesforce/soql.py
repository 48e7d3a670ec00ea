"""SOQL → SQLite: parse the subset connectors use and compile it to SQL with bound parameters.

Supported: a field list (relationship paths such as ``Owner.Email`` become LEFT JOINs on the parent's table)
or ``COUNT()``; WHERE with AND/OR/NOT and parentheses (mixing AND and OR without parentheses is an error, as in
Salesforce); = != <> < <= > >= IN / NOT IN / LIKE; string, number, boolean, null, date, datetime and a few
relative date literals; ORDER BY (ASC/DESC, NULLS FIRST/LAST); LIMIT; OFFSET. Anything else (subqueries,
aggregates other than COUNT(), GROUP BY, polymorphic relationships, FOR VIEW ...) is refused with
MALFORMED_QUERY rather than half-supported.

Null semantics follow SOQL, not SQL [?]: ``Field != 'x'`` and ``NOT IN`` also match records where the field is
null. String comparisons and ordering are case-insensitive, as in Salesforce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sandbox.model.salesforce import OBJECTS, SfField, SfObject, get_object
from sandbox.server.salesforce.errors import SfApiError, invalid_type_message
from sandbox.server.salesforce.soql_lexer import Token, malformed, tokenize, unescape
from sandbox.server.salesforce.store import table
from sandbox.server.salesforce.values import format_datetime, parse_datetime

_TEXT_TYPES = {"id", "reference", "string", "picklist", "multipicklist", "textarea", "email", "phone", "url"}
_NUMBER_TYPES = {"int", "double", "currency", "percent"}
_CLAUSE_WORDS = {"FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "FOR", "WITH", "USING"}
_UNSUPPORTED_CLAUSES = {"GROUP", "HAVING", "FOR", "WITH", "USING"}
_DAY_LITERALS = {"TODAY": (0, 1), "YESTERDAY": (-1, 0), "TOMORROW": (1, 2)}
_DAY_N_LITERALS = {"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO"}


@dataclass(frozen=True)
class Join:
    alias: str
    obj: SfObject
    relationship: str  # relationship name as declared, e.g. "Owner"


@dataclass(frozen=True)
class Column:
    """A resolved field path: the joins leading to it and the field at its end."""

    joins: tuple[Join, ...]
    field: SfField
    obj: SfObject  # the object owning ``field``

    @property
    def alias(self) -> str:
        return self.joins[-1].alias if self.joins else "t0"

    def sql(self, name: str | None = None) -> str:
        return f'{self.alias}."{name or self.field.name}"'

    @property
    def path(self) -> str:
        return ".".join([*(j.relationship for j in self.joins), self.field.name])


@dataclass
class CompiledQuery:
    soql: str
    obj: SfObject
    count_only: bool
    columns: list[Column]
    joins: dict[str, Join]  # path prefix (lower-case) -> join, in join order
    where_sql: str
    params: list[Any]
    order_sql: str
    limit: int | None
    offset: int | None
    uses_offset: bool = False
    compound_fields: list[str] = field(default_factory=list)

    def from_sql(self, include_deleted: bool) -> tuple[str, list[Any]]:
        """FROM ... JOIN ... WHERE ..., with queryAll's recycle-bin rows only when ``include_deleted``."""
        parts = [f'FROM "{table(self.obj)}" t0', self.joins_sql()]
        conditions = [] if include_deleted else ['t0."IsDeleted" = 0']
        if self.where_sql:
            conditions.append(f"({self.where_sql})")
        if conditions:
            parts.append("WHERE " + " AND ".join(conditions))
        return " ".join(parts), list(self.params)

    def joins_sql(self) -> str:
        parts = []
        for prefix, join in self.joins.items():
            parent = prefix.rsplit(".", 1)[0] if "." in prefix else ""
            parent_alias = self.joins[parent].alias if parent else "t0"
            ref = _reference_field(self.joins[parent].obj if parent else self.obj, join.relationship)
            parts.append(
                f'LEFT JOIN "{table(join.obj)}" {join.alias} ON {join.alias}."Id" = {parent_alias}."{ref.name}"'
            )
        return " ".join(parts)

    def window_sql(self, include_deleted: bool) -> tuple[str, list[Any]]:
        """Matching Ids with their position in the requested order, LIMIT/OFFSET applied: a cursor snapshot."""
        from_sql, params = self.from_sql(include_deleted)
        order = f'{self.order_sql}, t0."Id"' if self.order_sql else 't0."Id"'
        sql = f'SELECT t0."Id" AS id, ROW_NUMBER() OVER (ORDER BY {order}) AS pos {from_sql} ORDER BY pos'
        return _with_limits(sql, params, self.limit, self.offset)

    def count_sql(self, include_deleted: bool) -> tuple[str, list[Any]]:
        from_sql, params = self.from_sql(include_deleted)
        inner, params = _with_limits(f't0."Id" {from_sql}', params, self.limit, self.offset)
        return f"SELECT COUNT(*) FROM (SELECT {inner})", params

    def select_sql(self) -> str:
        """Select list for rendering: every column plus each joined parent's Id (null parent → null object)."""
        exprs = ['t0."Id" AS "t0_Id"']
        exprs.extend(f'{c.sql()} AS "c{i}"' for i, c in enumerate(self.columns) if c.field.type != "address")
        for i, c in enumerate(self.columns):
            if c.field.type == "address":
                exprs.extend(f'{c.sql(part.name)} AS "c{i}_{part.name}"' for part in address_parts(c.obj, c.field))
        exprs.extend(f'{j.alias}."Id" AS "{j.alias}_Id"' for j in self.joins.values())
        return ", ".join(exprs)


def address_parts(obj: SfObject, compound: SfField) -> list[SfField]:
    """Component fields of a compound address (``MailingAddress`` → MailingStreet, MailingCity, ...)."""
    prefix = compound.name[: -len("Address")]
    names = ("Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode", "Latitude", "Longitude")
    return [f for f in (obj.field(prefix + n) for n in names) if f is not None]


def _with_limits(sql: str, params: list[Any], limit: int | None, offset: int | None) -> tuple[str, list[Any]]:
    if limit is not None or offset is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, -1 if limit is None else limit, offset or 0]
    return sql, params


def _reference_field(obj: SfObject, relationship: str) -> SfField:
    for f in obj.fields:
        if f.relationship_name and f.relationship_name.lower() == relationship.lower():
            return f
    raise KeyError(relationship)


def compile_soql(soql: str, now: datetime) -> CompiledQuery:
    return _Parser(soql, now).parse()


class _Parser:
    def __init__(self, soql: str, now: datetime) -> None:
        self.soql = soql
        self.now = now
        self.tokens = tokenize(soql)
        self.i = 0
        self.params: list[Any] = []
        self.joins: dict[str, Join] = {}
        self.obj: SfObject = OBJECTS["Lead"]

    # -- token helpers ---------------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, token: Token, message: str | None = None, code: str = "MALFORMED_QUERY") -> SfApiError:
        return malformed(self.soql, token.pos, message or f"unexpected token: '{token.text}'", code)

    def keyword(self, word: str) -> bool:
        if self.tok.upper() == word:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.error(self.tok)

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(self.tok)
        return self.next()

    # -- grammar ---------------------------------------------------------------------------------------------
    def parse(self) -> CompiledQuery:
        self.expect_keyword("SELECT")
        select_start, depth = self.i, 0
        while self.tok.kind != "eof" and (depth or self.tok.upper() != "FROM"):
            depth += {"(": 1, ")": -1}.get(self.tok.kind, 0)
            self.i += 1
        from_token = self.tok
        self.expect_keyword("FROM")
        name = self.expect("ident")
        obj = get_object(name.text)
        if obj is None or "." in name.text:
            raise self.error(name, invalid_type_message(name.text), "INVALID_TYPE")
        self.obj = obj
        if self.tok.kind == "ident" and self.tok.upper() not in _CLAUSE_WORDS:
            raise self.error(self.tok, "Object aliases are not supported by the sandbox")
        after_from = self.i
        self.i = select_start
        count_only, columns = self.select_list(from_token)
        self.i = after_from
        where_sql = ""
        if self.keyword("WHERE"):
            where_sql = self.condition()
        if self.tok.upper() in _UNSUPPORTED_CLAUSES:
            raise self.error(self.tok, f"{self.tok.text} is not supported by the sandbox's SOQL")
        order_sql = ""
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            order_sql = self.order_list()
        limit = offset = None
        if self.keyword("LIMIT"):
            limit = self.integer()
        uses_offset = False
        if self.keyword("OFFSET"):
            offset, uses_offset = self.integer(), True
            if offset > 2000:
                raise SfApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        if self.tok.kind != "eof":
            raise self.error(self.tok)
        return CompiledQuery(
            soql=self.soql,
            obj=obj,
            count_only=count_only,
            columns=columns,
            joins=self.joins,
            where_sql=where_sql,
            params=self.params,
            order_sql=order_sql,
            limit=limit,
            offset=offset,
            uses_offset=uses_offset,
            compound_fields=[c.field.name for c in columns if c.field.type == "address"],
        )

    def select_list(self, end: Token) -> tuple[bool, list[Column]]:
        if self.tok.upper() == "COUNT" and self.tokens[self.i + 1].kind == "(":
            count_token = self.next()
            self.next()
            if self.tok.kind != ")":
                raise self.error(count_token, "COUNT(field) aggregates are not supported by the sandbox; use COUNT()")
            self.next()
            if self.tok is not end:
                raise self.error(self.tok)
            return True, []
        columns: list[Column] = []
        seen: set[str] = set()
        while True:
            token = self.tok
            if token.kind == "(":
                raise self.error(token, "Subqueries are not supported by the sandbox's SOQL")
            if token.kind != "ident" or token is end:
                raise self.error(token)
            self.next()
            if self.tok.kind == "(":
                raise self.error(token, f"Function {token.text}() is not supported by the sandbox's SOQL")
            column = self.column(token)
            key = column.path.lower()
            if key in seen:
                raise self.error(token, f"duplicate field selected: {column.path}")
            seen.add(key)
            columns.append(column)
            if self.tok.kind == ",":
                self.next()
                continue
            if self.tok is not end:
                raise self.error(self.tok)
            return False, columns

    def column(self, token: Token) -> Column:
        parts = token.text.split(".")
        if (
            len(parts) > 1
            and parts[0].lower() == self.obj.name.lower()
            and self._relationship(self.obj, parts[0]) is None
        ):
            parts = parts[1:]  # "Lead.Email" in a query FROM Lead
        obj, joins, prefix = self.obj, [], ""
        for rel in parts[:-1]:
            ref = self._relationship(obj, rel)
            if ref is None:
                raise self.error(
                    token,
                    f"Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom "
                    "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
                    "your WSDL or the describe call for the appropriate names.",
                    "INVALID_FIELD",
                )
            if len(ref.reference_to) != 1:
                raise self.error(token, f"Polymorphic relationship '{rel}' is not supported by the sandbox's SOQL")
            prefix = f"{prefix}.{rel.lower()}" if prefix else rel.lower()
            target = OBJECTS[ref.reference_to[0]]
            join = self.joins.get(prefix)
            if join is None:
                join = Join(alias=f"j{len(self.joins) + 1}", obj=target, relationship=ref.relationship_name or rel)
                self.joins[prefix] = join
            joins.append(join)
            obj = target
        f = obj.field(parts[-1])
        if f is None:
            raise self.error(
                token,
                f"No such column '{parts[-1]}' on entity '{obj.name}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
                "INVALID_FIELD",
            )
        return Column(tuple(joins), f, obj)

    @staticmethod
    def _relationship(obj: SfObject, name: str) -> SfField | None:
        try:
            return _reference_field(obj, name)
        except KeyError:
            return None

    def integer(self) -> int:
        token = self.expect("number")
        if not token.text.isdigit():
            raise self.error(token)
        return int(token.text)

    def order_list(self) -> str:
        items = []
        while True:
            token = self.expect("ident")
            column = self.column(token)
            self._filterable(token, column)
            expr = column.sql() + (" COLLATE NOCASE" if column.field.type in _TEXT_TYPES else "")
            direction = "DESC" if self.keyword("DESC") else "ASC"
            if direction == "ASC":
                self.keyword("ASC")
            nulls = "LAST" if direction == "DESC" else "FIRST"  # Salesforce's defaults
            if self.keyword("NULLS"):
                if self.keyword("FIRST"):
                    nulls = "FIRST"
                else:
                    self.expect_keyword("LAST")
                    nulls = "LAST"
            items.append(f"{expr} {direction} NULLS {nulls}")
            if self.tok.kind != ",":
                return ", ".join(items)
            self.next()

    # -- WHERE -----------------------------------------------------------------------------------------------
    def condition(self) -> str:
        parts = [self.unary()]
        connector = ""
        while self.tok.upper() in ("AND", "OR"):
            word = self.tok.upper()
            if connector and word != connector:
                raise self.error(self.tok)  # SOQL needs parentheses to mix AND and OR
            connector = word
            self.next()
            parts.append(self.unary())
        return f" {connector} ".join(parts) if connector else parts[0]

    def unary(self) -> str:
        if self.keyword("NOT"):
            return f"NOT ({self.unary()})"
        if self.tok.kind == "(":
            self.next()
            inner = self.condition()
            self.expect(")")
            return f"({inner})"
        return self.comparison()

    def comparison(self) -> str:
        token = self.expect("ident")
        column = self.column(token)
        self._filterable(token, column)
        if self.keyword("NOT"):
            self.expect_keyword("IN")
            return self.in_list(column, negate=True)
        if self.keyword("IN"):
            return self.in_list(column, negate=False)
        if self.keyword("LIKE"):
            literal = self.next()
            if literal.kind != "string" or column.field.type not in _TEXT_TYPES:
                raise self.error(literal, f"invalid operator on {column.field.type} field: LIKE", "INVALID_FIELD")
            self.params.append(unescape(self.soql, literal, like=True))
            return f"{column.sql()} LIKE ? ESCAPE '\\'"
        if self.tok.upper() in ("INCLUDES", "EXCLUDES"):
            raise self.error(self.tok, f"{self.tok.text} is not supported by the sandbox's SOQL")
        op = self.expect("op").text
        op = "!=" if op == "<>" else op
        literal = self.next()
        if literal.upper() == "NULL":
            if op == "=":
                return f"{column.sql()} IS NULL"
            if op == "!=":
                return f"{column.sql()} IS NOT NULL"
            raise self.error(literal, f"invalid operator on null: {op}")
        if literal.kind == "dateliteral" or literal.upper() in _DAY_LITERALS:
            return self.date_range(column, op, literal)
        value = self.value(column, literal)
        collate = " COLLATE NOCASE" if column.field.type in _TEXT_TYPES else ""
        self.params.append(value)
        if op == "!=":
            return f"({column.sql()} IS NULL OR {column.sql()} != ?{collate})"
        return f"{column.sql()} {op} ?{collate}"

    def in_list(self, column: Column, negate: bool) -> str:
        open_paren = self.expect("(")
        if self.tok.upper() == "SELECT":
            raise self.error(open_paren, "Semi-join subqueries are not supported by the sandbox's SOQL")
        values: list[Any] = []
        has_null = False
        while True:
            literal = self.next()
            if literal.upper() == "NULL":
                has_null = True
            else:
                values.append(self.value(column, literal))
            if self.tok.kind == ")":
                self.next()
                break
            self.expect(",")
        collate = " COLLATE NOCASE" if column.field.type in _TEXT_TYPES else ""
        self.params.extend(values)
        marks = ", ".join("?" for _ in values)
        if negate:
            test = f"{column.sql()} NOT IN ({marks}){collate}" if values else "1"
            return f"({test})" if has_null else f"({column.sql()} IS NULL OR {test})"
        test = f"{column.sql()} IN ({marks}){collate}" if values else "0"
        return f"({column.sql()} IS NULL OR {test})" if has_null else test

    def value(self, column: Column, literal: Token) -> Any:
        kind = column.field.type
        if kind == "boolean":
            if literal.upper() in ("TRUE", "FALSE"):
                return int(literal.upper() == "TRUE")
            raise self.type_error(literal, column, "boolean")
        if kind == "datetime":
            if literal.kind != "datetime":
                raise self.type_error(literal, column, "dateTime")
            return format_datetime(parse_datetime(literal.text))
        if kind == "date":
            if literal.kind != "date":
                raise self.type_error(literal, column, "date")
            return literal.text
        if kind in _NUMBER_TYPES:
            if literal.kind != "number":
                raise self.type_error(literal, column, "number")
            return float(literal.text) if "." in literal.text else int(literal.text)
        if literal.kind != "string":
            raise self.error(
                literal,
                f"value of filter criterion for field '{column.field.name}' must be of type string and should be "
                "enclosed in quotes",
                "INVALID_FIELD",
            )
        return unescape(self.soql, literal)

    def type_error(self, literal: Token, column: Column, expected: str) -> SfApiError:
        return self.error(
            literal,
            f"value of filter criterion for field '{column.field.name}' must be of type {expected} and should not "
            "be enclosed in quotes",
            "INVALID_FIELD",
        )

    def date_range(self, column: Column, op: str, literal: Token) -> str:
        """Relative date literals are day ranges in the org's time zone (UTC here); operators use its bounds."""
        kind = column.field.type
        if kind not in ("date", "datetime"):
            raise self.type_error(literal, column, kind)
        word, _, n_text = literal.text.upper().partition(":")
        if word in _DAY_LITERALS and not n_text:
            first, last = _DAY_LITERALS[word]
        elif word in _DAY_N_LITERALS and n_text:
            n = int(n_text)
            first, last = {"LAST_N_DAYS": (-n, 1), "NEXT_N_DAYS": (0, n + 1), "N_DAYS_AGO": (-n, -n + 1)}[word]
        else:
            raise self.error(literal, f"unsupported date literal: {literal.text}")
        today = datetime.combine(self.now.astimezone(UTC).date(), time(), tzinfo=UTC)
        start, end = today + timedelta(days=first), today + timedelta(days=last)
        lo, hi = (
            (format_datetime(start), format_datetime(end))
            if kind == "datetime"
            else (start.date().isoformat(), end.date().isoformat())
        )
        col = column.sql()
        ranges = {
            "=": (f"({col} >= ? AND {col} < ?)", [lo, hi]),
            "!=": (f"({col} IS NULL OR {col} < ? OR {col} >= ?)", [lo, hi]),
            "<": (f"{col} < ?", [lo]),
            "<=": (f"{col} < ?", [hi]),
            ">": (f"{col} >= ?", [hi]),
            ">=": (f"{col} >= ?", [lo]),
        }
        sql, params = ranges[op]
        self.params.extend(params)
        return sql

    def _filterable(self, token: Token, column: Column) -> None:
        if column.field.type == "address":
            raise self.error(token, f"field '{column.field.name}' can not be filtered in a query call", "INVALID_FIELD")
