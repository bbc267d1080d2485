"""The attribute catalog: the attributes a registry accepts, loaded from TOML and screened.

The catalog format is documented at the top of ``personae/catalog/default.toml``;
``load_catalog`` checks every part of it and raises ``CatalogError`` naming the
attribute and the problem. Special-category data (GDPR Art. 9) is refused on load;
the deny-list is here, in code, so that no catalog file can weaken it (see
``SPECIAL_CATEGORY_TERMS`` and ``_screen_art9``).
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeAlias

from personae.domain.attributes import (
    JSON,
    AttributeSpec,
    AttributeType,
    Band,
    Category,
    Constraints,
    Precision,
    PrecisionKind,
)
from personae.errors import CatalogError, FieldError, InvalidInput, UnknownAttribute

__all__ = [
    "JSON",
    "SPECIAL_CATEGORY_TERMS",
    "AttributeSpec",
    "AttributeType",
    "Band",
    "Catalog",
    "Category",
    "Constraints",
    "Item",
    "Precision",
    "PrecisionKind",
    "default_catalog",
    "load_catalog",
]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Item:
    """One disclosable item, ``attribute@precision`` (``birth_date@age_over_18``)."""

    attribute: str
    precision: str

    def __str__(self) -> str:
        return f"{self.attribute}@{self.precision}"


class Catalog:
    """The attributes a registry accepts, by name, in catalog order."""

    def __init__(self, specs: Iterable[AttributeSpec], source: str = "<catalog>") -> None:
        self._specs: Mapping[str, AttributeSpec] = MappingProxyType({s.name: s for s in specs})
        self.source = source

    @property
    def names(self) -> tuple[str, ...]:
        """Every attribute name, in catalog order."""
        return tuple(self._specs)

    def __iter__(self) -> Iterator[AttributeSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> AttributeSpec:
        """The attribute called ``name``; ``UnknownAttribute`` if the catalog lacks it."""
        spec = self._specs.get(name)
        if spec is None:
            msg = f"unknown attribute {name[:64]!r}"
            raise UnknownAttribute(msg, [FieldError(("attributes", name[:64]), msg)])
        return spec

    def parse_item(self, text: str) -> Item:
        """The item named by ``attribute@precision``, checked against this catalog."""
        attribute, at, precision = text.partition("@") if isinstance(text, str) else ("", "", "")
        if not (at and _NAME.fullmatch(attribute) and _NAME.fullmatch(precision)):
            msg = "an item must be written attribute@precision, such as 'birth_date@age_over_18'"
            raise InvalidInput(msg, [FieldError(("item",), msg)])
        self.get(attribute).precision(precision)
        return Item(attribute, precision)


def load_catalog(text: str, source: str = "<catalog>") -> Catalog:
    """Parse and check a catalog in the TOML format of ``default.toml``; ``CatalogError`` if bad."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    _keys(doc, source, required={"format", "attributes"}, allowed={"code_lists", "maps"})
    if type(doc["format"]) is not int or doc["format"] != 1:
        raise CatalogError(f"{source}: unsupported catalog format {doc['format']!r} (expected 1)")
    tables = _named_tables(doc, source)
    attributes = _table(doc["attributes"], f"{source}: attributes")
    if not attributes:
        raise CatalogError(f"{source}: the catalog defines no attribute")
    return Catalog((_load_attribute(n, d, tables, source) for n, d in attributes.items()), source)


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with personae (``personae/catalog/default.toml``)."""
    text = resources.files("personae.catalog").joinpath("default.toml").read_text("utf-8")
    return load_catalog(text, "personae/catalog/default.toml")


# --- loading ---------------------------------------------------------------------------

_CONSTRAINT_KEYS: Mapping[AttributeType, tuple[frozenset[str], frozenset[str]]] = {
    # type: (required keys, optional keys)
    AttributeType.DATE: (frozenset({"min"}), frozenset({"max", "not_in_future"})),
    AttributeType.STRING: (frozenset({"max_length"}), frozenset({"pattern", "group_values"})),
    AttributeType.INTEGER: (frozenset({"min", "max"}), frozenset()),
    AttributeType.ENUM: (frozenset({"values"}), frozenset()),
    AttributeType.LIST: (
        frozenset({"max_items"}),
        frozenset({"min_items", "max_length", "pattern", "values", "group_values"}),
    ),
}

_KINDS_BY_TYPE: Mapping[AttributeType, frozenset[PrecisionKind]] = {
    AttributeType.DATE: frozenset(
        {PrecisionKind.YEAR, PrecisionKind.AGE_BAND, PrecisionKind.AGE_OVER}
    ),
    AttributeType.STRING: frozenset({PrecisionKind.GROUP}),
    AttributeType.INTEGER: frozenset({PrecisionKind.BAND}),
    AttributeType.ENUM: frozenset({PrecisionKind.LOOKUP, PrecisionKind.GROUP}),
    AttributeType.LIST: frozenset(),
}

_PRECISION_KEYS: Mapping[PrecisionKind, frozenset[str]] = {
    PrecisionKind.EXACT: frozenset(),
    PrecisionKind.YEAR: frozenset(),
    PrecisionKind.AGE_BAND: frozenset({"bands"}),
    PrecisionKind.AGE_OVER: frozenset({"age"}),
    PrecisionKind.BAND: frozenset({"bands"}),
    PrecisionKind.LOOKUP: frozenset({"map"}),
    PrecisionKind.GROUP: frozenset({"map", "prefix"}),
}

_Tables: TypeAlias = Mapping[str, Mapping[str, str]]


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where} must be a table")
    return value


def _keys(
    table: Mapping[str, Any], where: str, *, required: Iterable[str], allowed: Iterable[str]
) -> None:
    missing = sorted(set(required) - table.keys())
    if missing:
        raise CatalogError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(table.keys() - set(required) - set(allowed))
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}")


_TYPE_NAMES: Mapping[type[Any], str] = {
    int: "an integer",
    str: "a string",
    bool: "true or false",
}


def _typed(value: object, kind: type[Any], where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CatalogError(f"{where} must be {_TYPE_NAMES.get(kind, kind.__name__)}")
    return value


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(f"{where} must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise CatalogError(f"{where} lists a value twice")
    return value


def _named_tables(doc: Mapping[str, Any], source: str) -> _Tables:
    """Code lists (as code -> code) and maps, in one namespace."""
    tables: dict[str, Mapping[str, str]] = {}
    for name, codes in _table(doc.get("code_lists", {}), f"{source}: code_lists").items():
        tables[name] = {c: c for c in _strings(codes, f"{source}: code_lists.{name}")}
    for name, mapping in _table(doc.get("maps", {}), f"{source}: maps").items():
        if name in tables:
            raise CatalogError(f"{source}: {name!r} is both a code list and a map")
        entries = _table(mapping, f"{source}: maps.{name}")
        tables[name] = {k: _typed(v, str, f"{source}: maps.{name}.{k}") for k, v in entries.items()}
    return tables


def _lookup(tables: _Tables, name: object, where: str) -> Mapping[str, str]:
    if not isinstance(name, str) or name not in tables:
        raise CatalogError(f"{where}: no code list or map named {name!r}")
    return tables[name]


def _load_attribute(name: str, raw: object, tables: _Tables, source: str) -> AttributeSpec:
    where = f"{source}: attribute {name!r}"
    if not _NAME.fullmatch(name):
        raise CatalogError(f"{where}: names are lowercase snake_case, at most 64 characters")
    body = _table(raw, where)
    _screen_art9(name, body)
    _keys(
        body,
        where,
        required={"category", "type", "description", "precisions"},
        allowed={"expects", "tags", "constraints"},
    )
    try:
        kind = AttributeType(body["type"])
    except ValueError:
        raise CatalogError(f"{where}: unknown type {body['type']!r}") from None
    constraints = _load_constraints(kind, _table(body.get("constraints", {}), where), tables, where)
    forms = tuple(
        _load_precision(
            p,
            _table(spec, f"{where}, precision {p!r}"),
            kind=kind,
            constraints=constraints,
            tables=tables,
            where=where,
        )
        for p, spec in _table(body["precisions"], f"{where}: precisions").items()
    )
    if not forms:
        raise CatalogError(f"{where}: declares no precision")
    description = _typed(body["description"], str, f"{where}: description").strip()
    if not description:
        raise CatalogError(f"{where}: description must not be empty")
    return AttributeSpec(
        name=name,
        category=Category(body["category"]),
        type=kind,
        description=description,
        precisions=tuple(f.name for f in forms),
        constraints=constraints,
        expects=_typed(body.get("expects", f"a valid {kind} value"), str, f"{where}: expects"),
        tags=tuple(_strings(body.get("tags", []), f"{where}: tags")),
        forms=forms,
    )


def _load_constraints(
    kind: AttributeType, raw: Mapping[str, Any], tables: _Tables, where: str
) -> Constraints:
    required, optional = _CONSTRAINT_KEYS[kind]
    where = f"{where}, constraints"
    _keys(raw, where, required=required, allowed=optional)
    if kind is AttributeType.DATE:
        lo, hi = (_date(raw.get(k), f"{where}.{k}") for k in ("min", "max"))
        future = _typed(raw.get("not_in_future", False), bool, f"{where}.not_in_future")
        if lo is not None and hi is not None and lo > hi:
            raise CatalogError(f"{where}: min is after max")
        return Constraints(min_date=lo, max_date=hi, not_in_future=future)
    if kind is AttributeType.INTEGER:
        lo, hi = _typed(raw["min"], int, f"{where}.min"), _typed(raw["max"], int, f"{where}.max")
        if lo > hi:
            raise CatalogError(f"{where}: min is greater than max")
        return Constraints(minimum=lo, maximum=hi)
    values = raw.get("values", [])
    codes = _lookup(tables, values, where) if isinstance(values, str) else _strings(values, where)
    if kind is AttributeType.ENUM and not codes:
        raise CatalogError(f"{where}: values must not be empty")
    pattern = _pattern(raw.get("pattern"), where)
    groups: dict[str, frozenset[str]] = {}
    for group, table in _table(raw.get("group_values", {}), f"{where}.group_values").items():
        if pattern is None or group not in pattern.groupindex:
            raise CatalogError(f"{where}.group_values: pattern has no group named {group!r}")
        groups[group] = frozenset(_lookup(tables, table, f"{where}.group_values"))
    if kind is AttributeType.LIST and pattern is None and not codes:
        raise CatalogError(f"{where}: a list needs a pattern or values for its items")
    length = raw.get("max_length", 64 if kind is AttributeType.LIST else None)
    max_length = None if length is None else _bounded(length, 1, 10_000, f"{where}.max_length")
    min_items = _bounded(raw.get("min_items", 0), 0, 100, f"{where}.min_items")
    max_items = (
        _bounded(raw["max_items"], 1, 100, f"{where}.max_items") if "max_items" in raw else None
    )
    if max_items is not None and min_items > max_items:
        raise CatalogError(f"{where}: min_items is greater than max_items")
    return Constraints(
        max_length=max_length,
        pattern=pattern,
        group_values=MappingProxyType(groups),
        values=frozenset(codes),
        min_items=min_items,
        max_items=max_items,
    )


def _date(value: object, where: str) -> date | None:
    if value is None:
        return None
    try:
        return value if type(value) is date else date.fromisoformat(_typed(value, str, where))
    except ValueError:
        raise CatalogError(f"{where} must be a date in YYYY-MM-DD form") from None


def _bounded(value: object, lo: int, hi: int, where: str) -> int:
    number: int = _typed(value, int, where)
    if not lo <= number <= hi:
        raise CatalogError(f"{where} must be from {lo} to {hi}")
    return number


def _pattern(value: object, where: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(_typed(value, str, f"{where}.pattern"))
    except re.error as exc:
        raise CatalogError(f"{where}.pattern is not a valid regular expression: {exc}") from None


def _load_precision(
    name: str,
    raw: Mapping[str, Any],
    *,
    kind: AttributeType,
    constraints: Constraints,
    tables: _Tables,
    where: str,
) -> Precision:
    where = f"{where}, precision {name!r}"
    if not _NAME.fullmatch(name):
        raise CatalogError(f"{where}: names are lowercase snake_case, at most 64 characters")
    try:
        how = PrecisionKind(_typed(raw.get("kind"), str, f"{where}: kind"))
    except ValueError:
        raise CatalogError(f"{where}: unknown precision kind {raw['kind']!r}") from None
    if how is not PrecisionKind.EXACT and how not in _KINDS_BY_TYPE[kind]:
        raise CatalogError(f"{where}: kind {how.value!r} does not apply to a {kind} attribute")
    _keys(raw, where, required={"kind", *_PRECISION_KEYS[how]}, allowed=())
    if how is PrecisionKind.AGE_OVER:
        age = _bounded(raw["age"], 0, 150, f"{where}.age")
        named = re.fullmatch(r"age_over_([0-9]+)", name)
        if named is not None and int(named.group(1)) != age:
            raise CatalogError(f"{where}: is named for age {named.group(1)} but has age = {age}")
        return Precision(name, how, age=age)
    if how in (PrecisionKind.AGE_BAND, PrecisionKind.BAND):
        first = 0 if how is PrecisionKind.AGE_BAND else (constraints.minimum or 0)
        return Precision(name, how, bands=_bands(raw["bands"], first, where))
    if how in (PrecisionKind.LOOKUP, PrecisionKind.GROUP):
        table = MappingProxyType(dict(_lookup(tables, raw["map"], where)))
        missing = sorted(constraints.values - table.keys())
        if how is PrecisionKind.LOOKUP and missing:
            raise CatalogError(f"{where}: map has no entry for {', '.join(missing[:5])}")
        prefix = _bounded(raw["prefix"], 1, 64, f"{where}.prefix") if "prefix" in raw else None
        return Precision(name, how, table=table, prefix=prefix)
    return Precision(name, how)


def _bands(value: object, first: int, where: str) -> tuple[Band, ...]:
    if not isinstance(value, list) or not value:
        raise CatalogError(f"{where}: bands must be a non-empty list")
    bands = []
    for raw in value:
        band = _table(raw, f"{where}: each band")
        _keys(band, f"{where}: band", required={"from", "label"}, allowed=())
        bands.append(
            Band(
                _typed(band["from"], int, f"{where}: band from"),
                _typed(band["label"], str, f"{where}: band label"),
            )
        )
    starts = [b.start for b in bands]
    if starts[0] != first or any(a >= b for a, b in itertools.pairwise(starts)):
        raise CatalogError(f"{where}: bands must start at {first} and strictly increase")
    if len({b.label for b in bands}) != len(bands) or not all(b.label for b in bands):
        raise CatalogError(f"{where}: band labels must be non-empty and distinct")
    return tuple(bands)


# --- GDPR Art. 9 screening ------------------------------------------------------------

# Art. 9 class -> its terms, space-separated; "_" joins the words of a phrase. Words are
# matched as whole tokens, never as substrings (so "affiliation" does not match "faith",
# nor "occupation" "union"); ambiguous words appear only inside phrases ("trade union",
# "political party"), and a phrase also matches written as one token ("tradeunion").
# The list errs on the side of refusal: a catalog author rewords a description, while
# registering special-category data by mistake cannot be undone.
SPECIAL_CATEGORY_TERMS: Mapping[str, str] = {
    "racial or ethnic origin": "race racial races ethnic ethnicity ethnicities ethnical caste"
    " castes tribe tribal ancestry skin_colour skin_color",
    "political opinions": "political politics politically ideology ideologies political_party"
    " party_membership party_affiliation voting_intention voter_preference",
    "religious or philosophical beliefs": "religion religions religious belief beliefs faith"
    " faiths creed creeds church mosque synagogue atheist atheism agnostic spiritual"
    " spirituality philosophical worldview",
    "trade union membership": "trade_union trade_unions labor_union labour_union"
    " union_membership union_member unionized unionised",
    "genetic data": "dna genetic genetics genome genomic genotype genotypes gene genes",
    "biometric data": "biometric biometrics fingerprint fingerprints face faces facial"
    " faceprint iris irises retina retinal voiceprint palmprint gait",
    "health data": "health healthcare medical medication medications diagnosis diagnoses"
    " disability disabilities disabled illness illnesses disease diseases pregnancy pregnant"
    " allergy allergies blood_type hiv mental_health psychiatric symptom symptoms vaccination"
    " vaccinations vaccine prescription prescriptions",
    "sex life or sexual orientation": "sexual sexuality sex_life orientation gay lesbian"
    " bisexual homosexual heterosexual asexual lgbt lgbtq lgbtqia",
}

_ART9_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (phrase, label)
    for label, terms in SPECIAL_CATEGORY_TERMS.items()
    for term in terms.split()
    for phrase in {tuple(term.split("_")), (term.replace("_", ""),)}
)


def _tokens(text: str) -> tuple[str, ...]:
    """Lowercase word tokens, splitting on non-alphanumerics and camelCase humps."""
    return tuple(re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text).lower()))


def _screen_art9(name: str, body: Mapping[str, Any]) -> None:
    """Refuse an attribute that is, or is described as, special-category data."""
    category = body.get("category")
    if category not in tuple(Category):
        raise CatalogError(
            f"attribute {name!r} has category {category!r}: only natural and social attributes "
            "can be registered (special-category data, GDPR Art. 9, never)"
        )
    texts = [name, body.get("description"), body.get("expects"), *_listed(body.get("tags"))]
    constraints = body.get("constraints")
    if isinstance(constraints, dict):
        texts += _listed(constraints.get("values"))
    precisions = body.get("precisions")
    if isinstance(precisions, dict):
        texts += list(precisions)
        for form in precisions.values():
            bands = form.get("bands") if isinstance(form, dict) else None
            texts += [b.get("label") for b in bands or [] if isinstance(b, dict)]
    for text in texts:
        tokens = _tokens(text) if isinstance(text, str) else ()
        for phrase, label in _ART9_PHRASES:
            n = len(phrase)
            if any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1)):
                raise CatalogError(
                    f"attribute {name!r} is special-category data (GDPR Art. 9: {label}) "
                    "and cannot be registered"
                )


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
