"""Loading catalogs: the shipped one, custom ones, and every way a catalog file can be wrong."""

from __future__ import annotations

from datetime import date

import pytest

from personae.domain.catalog import (
    JSON,
    AttributeType,
    Catalog,
    Category,
    Item,
    PrecisionKind,
    default_catalog,
    load_catalog,
)
from personae.domain.disclosure import derive
from personae.errors import CatalogError, InvalidInput, UnknownAttribute

TODAY = date(2025, 6, 15)

CUSTOM = """
format = 1

[attributes.guild_rank]
category = "social"
type = "enum"
description = "Rank held in an in-world guild."
expects = "one of novice, adept, master"
constraints = { values = ["novice", "adept", "master"] }
precisions = { exact = { kind = "exact" }, tier = { kind = "lookup", map = "tiers" } }

[attributes.hours_played]
category = "social"
type = "integer"
description = "Hours played in the last year."
constraints = { min = 0, max = 9000 }

[attributes.hours_played.precisions]
exact = { kind = "exact" }
band.kind = "band"
band.bands = [{ from = 0, label = "light" }, { from = 100, label = "regular" }]

[maps.tiers]
novice = "low"
adept = "high"
master = "high"
"""


def _attribute(body: str, name: str = "thing", extra: str = "") -> str:
    return f"format = 1\n[attributes.{name}]\n{body}\n{extra}"


STRING_BODY = """category = "social"
type = "string"
description = "Something."
constraints = { max_length = 10 }
precisions = { exact = { kind = "exact" } }
"""


def test_shipped_catalog_lists_the_required_attributes() -> None:
    catalog = default_catalog()
    assert set(catalog.names) >= {
        "birth_date",
        "country_of_residence",
        "languages",
        "legal_name",
        "occupation",
        "affiliation",
        "years_of_experience",
    }
    assert len(catalog) == len(catalog.names) == len(list(catalog))
    assert "birth_date" in catalog and "religion" not in catalog
    assert default_catalog() is catalog


def test_shipped_catalog_declares_types_categories_and_precisions() -> None:
    catalog = default_catalog()
    birth = catalog.get("birth_date")
    assert (birth.category, birth.type) == (Category.NATURAL, AttributeType.DATE)
    assert set(birth.precisions) == {
        "exact",
        "year",
        "age_band",
        "age_over_13",
        "age_over_16",
        "age_over_18",
        "age_over_21",
    }
    assert catalog.get("occupation").category is Category.SOCIAL
    assert catalog.get("occupation").precisions == ("unit_group", "major_group")
    assert catalog.get("country_of_residence").precisions == ("exact", "region")
    assert catalog.get("years_of_experience").type is AttributeType.INTEGER
    assert catalog.get("languages").type is AttributeType.LIST
    assert catalog.get("legal_name").precisions == ("exact",)
    assert catalog.get("affiliation").precisions == ("exact",)
    assert all(spec.description for spec in catalog)


def test_shipped_country_list_is_the_full_iso_3166_1_list() -> None:
    values = default_catalog().get("country_of_residence").constraints.values
    assert len(values) == 249
    assert {"FR", "US", "AQ", "TW", "XK"} & values == {"FR", "US", "AQ", "TW"}


def test_get_unknown_attribute_names_it() -> None:
    with pytest.raises(UnknownAttribute, match="unknown attribute 'shoe_size'") as caught:
        default_catalog().get("shoe_size")
    assert caught.value.errors[0].loc == ("attributes", "shoe_size")


def test_parse_item_round_trips() -> None:
    item = default_catalog().parse_item("birth_date@age_over_18")
    assert item == Item("birth_date", "age_over_18")
    assert str(item) == "birth_date@age_over_18"


@pytest.mark.parametrize("text", ["shoe_size@exact", "birth_date@decade", "legal_name@year"])
def test_parse_item_unknown_attribute_or_precision(text: str) -> None:
    with pytest.raises(UnknownAttribute):
        default_catalog().parse_item(text)


@pytest.mark.parametrize(
    "text", ["birth_date", "@exact", "birth_date@", "a@b@c", "Birth_Date@exact", " x@exact", ""]
)
def test_parse_item_malformed(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        default_catalog().parse_item(text)
    assert not isinstance(caught.value, UnknownAttribute)
    assert "attribute@precision" in caught.value.detail


def test_custom_catalog_with_integer_and_enum() -> None:
    catalog = load_catalog(CUSTOM, "custom.toml")
    assert isinstance(catalog, Catalog) and catalog.source == "custom.toml"
    assert catalog.names == ("guild_rank", "hours_played")
    rank, hours = catalog.get("guild_rank"), catalog.get("hours_played")
    assert rank.precision("tier").kind is PrecisionKind.LOOKUP
    assert rank.validate("adept", today=TODAY) == "adept"
    assert derive(rank, "tier", "master", TODAY) == "high"
    assert hours.validate(150, today=TODAY) == 150
    assert derive(hours, "band", 99, TODAY) == "light"
    assert derive(hours, "band", 100, TODAY) == "regular"
    with pytest.raises(InvalidInput, match="guild_rank must be one of novice"):
        rank.validate("grandmaster", today=TODAY)
    with pytest.raises(InvalidInput, match="from 0 to 9000"):
        hours.validate(9001, today=TODAY)


BAD_CATALOGS = {
    "not toml": ("format = = 1", "not valid TOML"),
    "no format": ("[attributes.a]\n", "missing format"),
    "wrong format": ("format = 2\n[attributes.a]\n", "unsupported catalog format 2"),
    "no attributes": ("format = 1\n[attributes]\n", "defines no attribute"),
    "unknown top-level key": ("format = 1\nextra = 1\n[attributes]\n", "unknown key"),
    "missing type": (
        _attribute('category = "social"\ndescription = "d"\nprecisions = {}'),
        "attribute 'thing': missing type",
    ),
    "missing description": (
        _attribute(STRING_BODY.replace('description = "Something."\n', "")),
        "missing description",
    ),
    "unknown type": (_attribute(STRING_BODY.replace('"string"', '"blob"')), "unknown type 'blob'"),
    "unknown precision kind": (
        _attribute(STRING_BODY.replace('kind = "exact"', 'kind = "decade"')),
        "unknown precision kind 'decade'",
    ),
    "precision kind of another type": (
        _attribute(STRING_BODY.replace('kind = "exact"', 'kind = "year"')),
        "kind 'year' does not apply to a string attribute",
    ),
    "no precision": (
        _attribute(STRING_BODY.replace('{ exact = { kind = "exact" } }', "{}")),
        "declares no precision",
    ),
    "bad attribute name": (_attribute(STRING_BODY, name='"Thing"'), "lowercase snake_case"),
    "missing max_length": (
        _attribute(STRING_BODY.replace("max_length = 10", "pattern = 'x'")),
        "missing max_length",
    ),
    "constraint of another type": (
        _attribute(STRING_BODY.replace("max_length = 10", "max_length = 10, min = 1")),
        "unknown key(s) min",
    ),
    "bad pattern": (
        _attribute(STRING_BODY.replace("max_length = 10", "max_length = 10, pattern = '('")),
        "not a valid regular expression",
    ),
    "group without pattern group": (
        _attribute(
            STRING_BODY.replace(
                "max_length = 10", "max_length = 10, pattern = 'x', group_values = { g = 'm' }"
            ),
            extra="[maps.m]\nx = 'y'\n",
        ),
        "pattern has no group named 'g'",
    ),
    "unknown code list": (
        _attribute(
            STRING_BODY.replace('"string"', '"enum"').replace("max_length = 10", "values = 'nope'")
        ),
        "no code list or map named 'nope'",
    ),
    "integer min above max": (
        _attribute(
            STRING_BODY.replace('"string"', '"integer"').replace(
                "max_length = 10", "min = 5, max = 1"
            )
        ),
        "min is greater than max",
    ),
    "boolean as integer bound": (
        _attribute(
            STRING_BODY.replace('"string"', '"integer"').replace(
                "max_length = 10", "min = true, max = 1"
            )
        ),
        "min must be an integer",
    ),
    "date without min": (
        _attribute(STRING_BODY.replace('"string"', '"date"').replace("max_length = 10", "")),
        "missing min",
    ),
    "list without item rule": (
        _attribute(
            STRING_BODY.replace('"string"', '"list"').replace("max_length = 10", "max_items = 3")
        ),
        "needs a pattern or values",
    ),
    "list too long": (
        _attribute(
            STRING_BODY.replace('"string"', '"list"').replace(
                "max_length = 10", "max_items = 1000, values = ['a']"
            )
        ),
        "max_items must be from 1 to 100",
    ),
    "boolean format": ("format = true\n[attributes.a]\n", "unsupported catalog format True"),
    "min_items above max_items": (
        _attribute(
            STRING_BODY.replace('"string"', '"list"').replace(
                "max_length = 10", "max_items = 2, min_items = 3, values = ['a']"
            )
        ),
        "min_items is greater than max_items",
    ),
    "age_over name disagrees": (
        _attribute(
            STRING_BODY.replace('"string"', '"date"')
            .replace("max_length = 10", "min = 1900-01-01")
            .replace('exact = { kind = "exact" }', 'age_over_18 = { kind = "age_over", age = 21 }')
        ),
        "named for age 18 but has age = 21",
    ),
    "bands not increasing": (
        _attribute(
            STRING_BODY.replace('"string"', '"integer"')
            .replace("max_length = 10", "min = 0, max = 9")
            .replace(
                'exact = { kind = "exact" }',
                'b = { kind = "band", bands = [{ from = 0, label = "a" }, '
                '{ from = 0, label = "b" }] }',
            )
        ),
        "bands must start at 0 and strictly increase",
    ),
    "lookup map missing a value": (
        _attribute(
            STRING_BODY.replace('"string"', '"enum"')
            .replace("max_length = 10", "values = ['a', 'b']")
            .replace('kind = "exact"', 'kind = "lookup", map = "m"'),
            extra="[maps.m]\na = 'A'\n",
        ),
        "map has no entry for b",
    ),
    "unknown precision key": (
        _attribute(STRING_BODY.replace('kind = "exact"', 'kind = "exact", age = 3')),
        "unknown key(s) age",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CATALOGS))
def test_bad_catalog_is_refused_with_a_clear_message(case: str) -> None:
    text, message = BAD_CATALOGS[case]
    with pytest.raises(CatalogError) as caught:
        load_catalog(text, "bad.toml")
    assert message in caught.value.detail


def test_catalog_error_names_source_and_attribute() -> None:
    text = _attribute(STRING_BODY.replace('"string"', '"blob"'), name="widget")
    with pytest.raises(CatalogError, match=r"^bad\.toml: attribute 'widget': unknown type"):
        load_catalog(text, "bad.toml")


def test_exact_on_every_shipped_attribute() -> None:
    catalog = default_catalog()
    samples: dict[str, JSON] = {
        "birth_date": "1990-04-02",
        "country_of_residence": "FR",
        "languages": ["fr", "pt-BR"],
        "legal_name": "Ada Lovelace",
        "occupation": "2512",
        "affiliation": "ACME",
        "years_of_experience": 12,
    }
    for spec in catalog:
        exact = "unit_group" if spec.name == "occupation" else "exact"
        assert derive(spec, exact, samples[spec.name], TODAY) == samples[spec.name]
