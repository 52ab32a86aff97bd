"""Reading a JSON document we did not write (another CI job's results.json) into typed values.

Rules of this module: every value is checked for its type and range where it is read,
and the first bad one raises ``ValueError`` with one line naming the field by its path
(``runs[1].cases[7].grade: expected one of pass, fail, ...``). Nothing is coerced: a
number in a string field is an error, not a string. Readers never print.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)

_MISSING = object()


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


class Reader:
    """One JSON object and where it is in the document."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise ValueError(f"{where or 'document'}: expected an object, got {_kind(value)}")
        self.data: dict[str, Any] = value
        self.where = where

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise ValueError(f"{self.path(key)}: missing")
        return value

    def _wrong(self, key: str, expected: str, value: Any) -> ValueError:
        return ValueError(f"{self.path(key)}: expected {expected}, got {_kind(value)}")

    def text(self, key: str, default: Any = _MISSING, limit: int = 100_000) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        if len(value) > limit:
            raise ValueError(f"{self.path(key)}: longer than {limit} characters")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def integer(self, key: str, default: Any = _MISSING, low: int = 0, high: int | None = None) -> int:
        value = self._get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "an integer", value)
        if value < low or (high is not None and value > high):
            raise ValueError(f"{self.path(key)}: {value} is out of range {low}..{'' if high is None else high}")
        return value

    def number(self, key: str, default: Any = _MISSING, low: float = 0.0) -> float:
        value = self._get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
            raise self._wrong(key, "a number", value)
        if value < low:
            raise ValueError(f"{self.path(key)}: {value} is below {low}")
        return float(value)

    def enum(self, key: str, kind: type[E], default: Any = _MISSING) -> E:
        value = self._get(key, default)
        if isinstance(value, kind):
            return value
        try:
            return kind(value)
        except ValueError:
            names = ", ".join(str(m.value) for m in kind)
            raise ValueError(f"{self.path(key)}: expected one of {names}, got {value!r:.40}") from None

    def obj(self, key: str, default: Any = _MISSING) -> Reader:
        return Reader(self._get(key, default), self.path(key))

    def optional_obj(self, key: str) -> Reader | None:
        return None if self.data.get(key) is None else self.obj(key)

    def array(self, key: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        return value

    def objects(self, key: str, default: Any = _MISSING) -> Iterator[Reader]:
        for i, item in enumerate(self.array(key, default)):
            yield Reader(item, f"{self.path(key)}[{i}]")

    def texts(self, key: str, default: Any = _MISSING) -> list[str]:
        items = self.array(key, default)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ValueError(f"{self.path(key)}[{i}]: expected a string, got {_kind(item)}")
        return items

    def integers(self, key: str, default: Any = _MISSING, low: int = 0, high: int | None = None) -> list[int]:
        items = self.array(key, default)
        for i, item in enumerate(items):
            if not isinstance(item, int) or isinstance(item, bool) or item < low or (high is not None and item > high):
                raise ValueError(f"{self.path(key)}[{i}]: expected an integer in {low}..{high or ''}, got {item!r:.40}")
        return items

    def text_map(self, key: str, default: Any = _MISSING) -> dict[str, str]:
        inner = self.obj(key, default)
        for name in inner.data:
            inner.text(name)
        return dict(inner.data)
