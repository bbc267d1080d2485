"""Attribute specs: types, allowed ranges, precisions, and the checking of values.

Values are checked by ``AttributeSpec.validate``:

- ``date``: a string in ``YYYY-MM-DD`` form only (ASCII digits), a real calendar date,
  within ``min``/``max`` and, with ``not_in_future``, not after ``today``.
- ``string``: NFC-normalized and stripped of surrounding whitespace, then non-empty, at
  most ``max_length`` characters, free of control characters and line separators, and
  matching ``pattern`` (whole text) and ``group_values`` when the catalog gives them.
- ``integer``: an ``int`` that is not a ``bool``; no floats, no numeric strings.
- ``enum`` and ``list`` items: codes, matched exactly (neither stripped nor case-folded:
  ``"fr"`` is not ``"FR"``); a list holds no item twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypeAlias

from personae.errors import CatalogError, FieldError, InvalidInput, UnknownAttribute

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None


class Category(StrEnum):
    """The two kinds of attribute a person may register (never special-category data)."""

    NATURAL = "natural"
    SOCIAL = "social"


class AttributeType(StrEnum):
    """The value type of an attribute."""

    DATE = "date"
    STRING = "string"
    INTEGER = "integer"
    ENUM = "enum"
    LIST = "list"


class PrecisionKind(StrEnum):
    """How a precision is derived from the value (see ``personae.domain.disclosure``)."""

    EXACT = "exact"
    YEAR = "year"
    AGE_BAND = "age_band"
    AGE_OVER = "age_over"
    BAND = "band"
    LOOKUP = "lookup"
    GROUP = "group"


@dataclass(frozen=True)
class Band:
    """One band of a banded precision: from ``start`` up to the next band's start."""

    start: int
    label: str


@dataclass(frozen=True)
class Precision:
    """A form an attribute can be disclosed in, with the parameters of its kind."""

    name: str
    kind: PrecisionKind
    age: int | None = None
    bands: tuple[Band, ...] = ()
    table: Mapping[str, str] = field(default_factory=dict, hash=False)
    prefix: int | None = None


@dataclass(frozen=True)
class Constraints:
    """The allowed range of a value; which fields apply depends on the attribute type."""

    min_date: date | None = None
    max_date: date | None = None
    not_in_future: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    group_values: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)
    values: frozenset[str] = frozenset()
    min_items: int = 0
    max_items: int | None = None


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FORBIDDEN_CHAR_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute of the catalog: what it is, its range, and how it may be disclosed.

    ``precisions`` names the disclosure forms in catalog order; ``forms`` holds how each
    one is derived (same order, same names). ``expects`` completes the sentence
    "<name> must be ..." in error messages.
    """

    name: str
    category: Category
    type: AttributeType
    description: str
    precisions: tuple[str, ...]
    constraints: Constraints
    expects: str = "a valid value"
    tags: tuple[str, ...] = ()
    forms: tuple[Precision, ...] = ()

    def __post_init__(self) -> None:
        if self.precisions != tuple(form.name for form in self.forms):
            raise CatalogError(f"attribute {self.name!r}: precisions and forms disagree")

    def precision(self, name: str) -> Precision:
        """The precision called ``name``; ``UnknownAttribute`` if this attribute lacks it."""
        for form in self.forms:
            if form.name == name:
                return form
        msg = (
            f"attribute {self.name!r} has no precision {name[:64]!r}; "
            f"it offers: {', '.join(self.precisions)}"
        )
        raise UnknownAttribute(msg, [FieldError(("attributes", self.name), msg)])

    def validate(self, value: object, *, today: date) -> JSON:
        """The normalized value, or ``InvalidInput`` saying in plain words what is wrong."""
        return _VALIDATORS[self.type](self, value, today)

    def _fail(self, msg: str, *loc: str | int) -> InvalidInput:
        return InvalidInput(msg, [FieldError(("attributes", self.name, *loc), msg)])

    def _must_be(self, *loc: str | int) -> InvalidInput:
        return self._fail(f"{self.name} must be {self.expects}", *loc)


def _validate_date(spec: AttributeSpec, value: object, today: date) -> JSON:
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise spec._must_be()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise spec._fail(f"{spec.name} is not a real calendar date: {value}") from None
    c = spec.constraints
    if c.not_in_future and day > today:
        raise spec._fail(f"{spec.name} must not be in the future")
    if c.min_date is not None and day < c.min_date:
        raise spec._fail(f"{spec.name} must not be before {c.min_date.isoformat()}")
    if c.max_date is not None and day > c.max_date:
        raise spec._fail(f"{spec.name} must not be after {c.max_date.isoformat()}")
    return day.isoformat()


def _validate_string(spec: AttributeSpec, value: object, today: date) -> JSON:
    limit = spec.constraints.max_length or 0
    if not isinstance(value, str):
        raise spec._must_be()
    if len(value) > 4 * limit + 64:  # bound the work before normalizing
        raise spec._fail(f"{spec.name} must be at most {limit} characters long")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise spec._fail(f"{spec.name} must not be empty")
    if len(text) > limit:
        raise spec._fail(f"{spec.name} must be at most {limit} characters long")
    if any(unicodedata.category(ch) in _FORBIDDEN_CHAR_CATEGORIES for ch in text):
        raise spec._fail(f"{spec.name} must not contain control characters or line breaks")
    if not _matches(spec.constraints, text):
        raise spec._must_be()
    return text


def _matches(c: Constraints, text: str) -> bool:
    """Whether ``text`` satisfies ``values``, ``pattern`` and ``group_values``."""
    if c.values and text not in c.values:
        return False
    if c.pattern is None:
        return True
    found = c.pattern.fullmatch(text)
    if found is None:
        return False
    groups = found.groupdict()
    return all(groups[g] is None or groups[g] in allowed for g, allowed in c.group_values.items())


def _validate_integer(spec: AttributeSpec, value: object, today: date) -> JSON:
    c = spec.constraints
    if isinstance(value, bool) or not isinstance(value, int):
        raise spec._must_be()
    if (c.minimum is not None and value < c.minimum) or (
        c.maximum is not None and value > c.maximum
    ):
        raise spec._fail(f"{spec.name} must be from {c.minimum} to {c.maximum}")
    return value


def _validate_enum(spec: AttributeSpec, value: object, today: date) -> JSON:
    if not isinstance(value, str) or value not in spec.constraints.values:
        raise spec._must_be()
    return value


def _validate_list(spec: AttributeSpec, value: object, today: date) -> JSON:
    c = spec.constraints
    if not isinstance(value, list):
        raise spec._must_be()
    if len(value) > (c.max_items or 0):
        raise spec._fail(f"{spec.name} must have at most {c.max_items} items")
    if len(value) < c.min_items:
        raise spec._fail(f"{spec.name} must have at least {c.min_items} item(s)")
    items: list[JSON] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or len(item) > (c.max_length or 0):
            raise spec._must_be(index)
        if not _matches(c, item):
            raise spec._must_be(index)
        if item in items:
            raise spec._fail(f"{spec.name} must not list {item!r} twice", index)
        items.append(item)
    return items


_VALIDATORS: Mapping[AttributeType, Callable[[AttributeSpec, object, date], JSON]] = {
    AttributeType.DATE: _validate_date,
    AttributeType.STRING: _validate_string,
    AttributeType.INTEGER: _validate_integer,
    AttributeType.ENUM: _validate_enum,
    AttributeType.LIST: _validate_list,
}
