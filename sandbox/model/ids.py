"""Salesforce record ids: 15-character case-sensitive ids plus the 3-character checksum suffix."""

from __future__ import annotations

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _checksum(id15: str) -> str:
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out.append(_SUFFIX[bits])
    return "".join(out)


def to_18(id15: str) -> str:
    if len(id15) != 15:
        raise ValueError(f"expected a 15-character id, got {id15!r}")
    return id15 + _checksum(id15)


def sf_id(key_prefix: str, n: int, pod: str = "5g") -> str:
    """Deterministic 18-character id for the n-th record of an object with ``key_prefix``.

    Layout as in real orgs: 3-char key prefix, 2-char pod/instance, 10-char base-62 counter, checksum.
    Ids of one object sort in creation order, as real ids mostly do.
    """
    if len(key_prefix) != 3:
        raise ValueError(f"key prefix must have 3 characters: {key_prefix!r}")
    digits = []
    for _ in range(10):
        n, r = divmod(n, 62)
        digits.append(_ALPHABET[r])
    if n:
        raise ValueError("id counter overflow")
    return to_18(key_prefix + pod + "".join(reversed(digits)))


def is_valid_18(value: str) -> bool:
    return len(value) == 18 and all(c in _ALPHABET for c in value) and _checksum(value[:15]) == value[15:]
