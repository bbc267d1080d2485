"""Rules for worlds: purposes, the attribute@precision items they ask for, and consent plans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from personae.domain.catalog import Catalog
from personae.errors import ConsentRequired, FieldError, InvalidInput

MAX_PURPOSES = 20
MAX_ITEMS_PER_PURPOSE = 30


@dataclass(frozen=True)
class RequestedItem:
    """One attribute@precision a world asks for, for one purpose."""

    item: str
    required: bool
    why: str


@dataclass(frozen=True)
class Purpose:
    """Why a world asks for some items (what it will do with them)."""

    name: str
    description: str
    items: tuple[RequestedItem, ...]


@dataclass(frozen=True)
class WorldTerms:
    """Everything a world asks of its members, as shown on the join screen."""

    purposes: tuple[Purpose, ...]

    def items(self) -> set[str]:
        return {ri.item for p in self.purposes for ri in p.items}

    def required_items(self) -> set[str]:
        return {ri.item for p in self.purposes for ri in p.items if ri.required}

    def to_json(self) -> list[dict[str, object]]:
        return [
            {
                "name": p.name,
                "description": p.description,
                "items": [
                    {"item": ri.item, "required": ri.required, "why": ri.why} for ri in p.items
                ],
            }
            for p in self.purposes
        ]


def _text(value: object, loc: tuple[str | int, ...], max_len: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise InvalidInput(
            f"{'.'.join(map(str, loc))} must be a non-empty text of at most {max_len} characters",
            [FieldError(loc, f"non-empty text, at most {max_len} characters")],
        )
    return value.strip()


def parse_terms(raw: object, catalog: Catalog) -> WorldTerms:
    """Validate a world's purposes against the catalog (InvalidInput with the field path)."""
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise InvalidInput("purposes must be a non-empty list", [FieldError(("purposes",), "list")])
    if len(raw) > MAX_PURPOSES:
        raise InvalidInput(f"at most {MAX_PURPOSES} purposes", [FieldError(("purposes",), "long")])
    purposes: list[Purpose] = []
    names: set[str] = set()
    for i, entry in enumerate(raw):
        loc: tuple[str | int, ...] = ("purposes", i)
        if not isinstance(entry, Mapping):
            raise InvalidInput("each purpose must be an object", [FieldError(loc, "object")])
        name = _text(entry.get("name"), (*loc, "name"), 64)
        if name in names:
            raise InvalidInput(
                f"purpose {name!r} appears twice", [FieldError((*loc, "name"), "dup")]
            )
        names.add(name)
        description = _text(entry.get("description"), (*loc, "description"), 500)
        raw_items = entry.get("items")
        if not isinstance(raw_items, Sequence) or isinstance(raw_items, str) or not raw_items:
            raise InvalidInput(
                "each purpose needs a non-empty list of items",
                [FieldError((*loc, "items"), "non-empty list")],
            )
        if len(raw_items) > MAX_ITEMS_PER_PURPOSE:
            raise InvalidInput("too many items", [FieldError((*loc, "items"), "too long")])
        items: list[RequestedItem] = []
        for j, ri in enumerate(raw_items):
            iloc = (*loc, "items", j)
            if not isinstance(ri, Mapping):
                raise InvalidInput("each item must be an object", [FieldError(iloc, "object")])
            item_text = _text(ri.get("item"), (*iloc, "item"), 80)
            item = str(catalog.parse_item(item_text))
            required = ri.get("required", False)
            if not isinstance(required, bool):
                raise InvalidInput("required must be true or false", [FieldError(iloc, "bool")])
            items.append(RequestedItem(item, required, _text(ri.get("why"), (*iloc, "why"), 500)))
        purposes.append(Purpose(name, description, tuple(items)))
    return WorldTerms(tuple(purposes))


def terms_from_json(raw: object, catalog: Catalog) -> WorldTerms:
    """Terms as stored (already validated once; validated again against today's catalog)."""
    return parse_terms(raw, catalog)


@dataclass(frozen=True)
class ConsentPlan:
    """The items a person consents to on joining a world."""

    granted: frozenset[str]


def plan_join(terms: WorldTerms, consented: Iterable[str], catalog: Catalog) -> ConsentPlan:
    """Check a join: every required item consented, nothing consented that was not asked."""
    chosen = {str(catalog.parse_item(text)) for text in consented}
    not_asked = sorted(chosen - terms.items())
    if not_asked:
        raise InvalidInput(
            f"the world does not ask for {', '.join(not_asked)}",
            [FieldError(("consent",), f"not asked: {item}") for item in not_asked],
        )
    missing = sorted(terms.required_items() - chosen)
    if missing:
        raise ConsentRequired(
            f"joining needs consent to every required item; missing: {', '.join(missing)}",
            [FieldError(("consent",), f"required: {item}") for item in missing],
        )
    return ConsentPlan(frozenset(chosen))
