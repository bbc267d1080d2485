"""GDPR Art. 9: special-category attributes are refused on load; ordinary ones are not."""

from __future__ import annotations

import pytest

from personae.domain.catalog import SPECIAL_CATEGORY_TERMS, default_catalog, load_catalog
from personae.errors import CatalogError


def _catalog(
    name: str,
    *,
    description: str = "An attribute.",
    category: str = "social",
    tags: str = "[]",
    extra: str = "",
) -> str:
    return f"""
format = 1
[attributes.{name}]
category = "{category}"
type = "string"
description = "{description}"
tags = {tags}
constraints = {{ max_length = 50 }}
{extra}
[attributes.{name}.precisions]
exact = {{ kind = "exact" }}
"""


ART9_CLASSES = {
    "racial or ethnic origin",
    "political opinions",
    "religious or philosophical beliefs",
    "trade union membership",
    "genetic data",
    "biometric data",
    "health data",
    "sex life or sexual orientation",
}


def test_every_art9_class_is_covered() -> None:
    assert set(SPECIAL_CATEGORY_TERMS) == ART9_CLASSES


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("ethnicity", "racial or ethnic origin"),
        ("race", "racial or ethnic origin"),
        ("political_party", "political opinions"),
        ("politics", "political opinions"),
        ("religion", "religious or philosophical beliefs"),
        ("faith", "religious or philosophical beliefs"),
        ("trade_union", "trade union membership"),
        ("union_membership", "trade union membership"),
        ("tradeunion", "trade union membership"),
        ("dna_profile", "genetic data"),
        ("genetic_markers", "genetic data"),
        ("fingerprint_hash", "biometric data"),
        ("face_template", "biometric data"),
        ("iris_code", "biometric data"),
        ("health_status", "health data"),
        ("medical_history", "health data"),
        ("disability", "health data"),
        ("diagnosis", "health data"),
        ("sexual_orientation", "sex life or sexual orientation"),
        ("sex_life", "sex life or sexual orientation"),
        ("sexlife", "sex life or sexual orientation"),
    ],
)
def test_art9_names_are_refused(name: str, label: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(_catalog(name))
    assert caught.value.detail == (
        f"attribute {name!r} is special-category data (GDPR Art. 9: {label}) "
        "and cannot be registered"
    )


@pytest.mark.parametrize(
    ("description", "label"),
    [
        ("The person's religious denomination.", "religious or philosophical beliefs"),
        ("Blood type, for medical emergencies.", "health data"),
        ("Whether the person is a Trade Union member.", "trade union membership"),
        ("Hash of a facial scan.", "biometric data"),
        ("Self-declared Ethnicity.", "racial or ethnic origin"),
    ],
)
def test_art9_descriptions_are_refused(description: str, label: str) -> None:
    with pytest.raises(CatalogError, match=f"GDPR Art. 9: {label}"):
        load_catalog(_catalog("profile_note", description=description))


def test_art9_tags_enum_values_and_precision_names_are_refused() -> None:
    with pytest.raises(CatalogError, match="health data"):
        load_catalog(_catalog("status", tags='["wellbeing", "health"]'))
    with pytest.raises(CatalogError, match="sex life or sexual orientation"):
        load_catalog(_catalog("x_group", extra="expects = 'a sexualOrientation code'"))
    enum = """
format = 1
[attributes.group]
category = "social"
type = "enum"
description = "A group."
constraints = { values = ["catholic", "atheist"] }
precisions = { exact = { kind = "exact" } }
"""
    with pytest.raises(CatalogError, match="religious or philosophical beliefs"):
        load_catalog(enum)
    precision = _catalog("status").replace("exact = {", "is_disabled = {")
    with pytest.raises(CatalogError, match="health data"):
        load_catalog(precision)


@pytest.mark.parametrize("category", ["special", "health", "sensitive", "", "Natural"])
def test_categories_other_than_natural_and_social_are_refused(category: str) -> None:
    with pytest.raises(CatalogError, match="only natural and social attributes"):
        load_catalog(_catalog("club", category=category))


def test_missing_category_is_refused() -> None:
    text = _catalog("club").replace('category = "social"\n', "")
    with pytest.raises(CatalogError, match="has category None"):
        load_catalog(text)


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("affiliation", "Organisation the person works for."),
        ("occupation", "Current occupation, as an ISCO-08 code."),
        ("reunion_city", "City of the next class reunion."),
        ("interface_language", "Preferred user-facing language."),
        ("marketplace", "Marketplace the seller operates on, e.g. a European Union one."),
        ("raceway_team", "Motor racing team in the raceway league."),
        ("handle", "Disclosed to a third party only with consent."),
    ],
)
def test_ordinary_attributes_are_not_false_positives(name: str, description: str) -> None:
    catalog = load_catalog(_catalog(name, description=description))
    assert catalog.names == (name,)


def test_shipped_catalog_passes_the_screen() -> None:
    names = default_catalog().names
    assert "affiliation" in names and "occupation" in names
