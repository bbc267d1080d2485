"""Disclosure: an attribute value reduced to one precision, never more than it allows.

Ages are whole years, counted in completed years: a person is one year older on
the anniversary of their birth date. Someone born on 29 February reaches each new
age on 1 March in common years (28 February is still before the anniversary). Some
jurisdictions count from 28 February instead; 1 March is the conservative choice:
an ``age_over_N`` predicate is never true a day early.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from datetime import date

from personae.domain.catalog import JSON, AttributeSpec, Precision, PrecisionKind
from personae.errors import CatalogError, InvalidInput


def age_on(birth: date, today: date) -> int:
    """Completed years of age on ``today`` (29 February birthdays count from 1 March)."""
    before_anniversary = (today.month, today.day) < (birth.month, birth.day)
    return today.year - birth.year - int(before_anniversary)


def derive(spec: AttributeSpec, precision: str, value: JSON, today: date) -> JSON:
    """``value`` of ``spec`` at ``precision``, as of ``today``.

    The value is validated first (``InvalidInput`` if it is not a valid value of the
    attribute); an unknown precision raises ``UnknownAttribute``.
    """
    form = spec.precision(precision)
    normalized = spec.validate(value, today=today)
    return _DERIVERS[form.kind](form, normalized, today)


def _exact(form: Precision, value: JSON, today: date) -> JSON:
    return value


def _birth(value: JSON) -> date:
    if not isinstance(value, str):
        raise CatalogError("a date precision was applied to a value that is not a date")
    return date.fromisoformat(value)


def _age(value: JSON, today: date) -> int:
    age = age_on(_birth(value), today)
    if age < 0:
        raise InvalidInput("a birth date after the day of disclosure has no age")
    return age


def _year(form: Precision, value: JSON, today: date) -> JSON:
    return _birth(value).year


def _age_over(form: Precision, value: JSON, today: date) -> JSON:
    if form.age is None:
        raise CatalogError(f"precision {form.name!r} has no age")
    return _age(value, today) >= form.age


def _in_band(form: Precision, number: int) -> str:
    starts = [band.start for band in form.bands]
    index = bisect.bisect_right(starts, number) - 1
    if index < 0:
        raise CatalogError(f"precision {form.name!r} has no band for {number}")
    return form.bands[index].label


def _age_band(form: Precision, value: JSON, today: date) -> JSON:
    return _in_band(form, _age(value, today))


def _band(form: Precision, value: JSON, today: date) -> JSON:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(f"precision {form.name!r} was applied to a value that is not a number")
    return _in_band(form, value)


def _code(form: Precision, value: JSON) -> str:
    if not isinstance(value, str):
        raise CatalogError(f"precision {form.name!r} was applied to a value that is not a code")
    return value


def _lookup(form: Precision, value: JSON, today: date) -> JSON:
    code = _code(form, value)
    if code not in form.table:
        raise CatalogError(f"precision {form.name!r} has no entry for {code!r}")
    return form.table[code]


def _group(form: Precision, value: JSON, today: date) -> JSON:
    key = _code(form, value)[: form.prefix]
    if form.prefix is None or key not in form.table:
        raise CatalogError(f"precision {form.name!r} has no group for {key!r}")
    return f"{key} {form.table[key]}"


_DERIVERS: Mapping[PrecisionKind, Callable[[Precision, JSON, date], JSON]] = {
    PrecisionKind.EXACT: _exact,
    PrecisionKind.YEAR: _year,
    PrecisionKind.AGE_OVER: _age_over,
    PrecisionKind.AGE_BAND: _age_band,
    PrecisionKind.BAND: _band,
    PrecisionKind.LOOKUP: _lookup,
    PrecisionKind.GROUP: _group,
}
