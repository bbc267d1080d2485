"""Checking attribute values against the shipped catalog: every type, accepted and refused."""

from __future__ import annotations

from datetime import date

import pytest

from personae.domain.catalog import default_catalog
from personae.errors import InvalidInput

TODAY = date(2025, 6, 15)


def _ok(name: str, value: object) -> object:
    return default_catalog().get(name).validate(value, today=TODAY)


def _refused(name: str, value: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        _ok(name, value)
    error = caught.value
    assert error.errors, "every refusal locates the field"
    assert error.errors[0].loc[:2] == ("attributes", name)
    assert error.errors[0].msg.startswith(name)
    return error


# --- date ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1990-04-02", "1900-01-01", "2025-06-15", "2000-02-29"])
def test_birth_date_accepts_real_past_dates(value: str) -> None:
    assert _ok("birth_date", value) == value


@pytest.mark.parametrize(
    "value",
    [
        "02/04/1990",
        "1990-4-2",
        "19900402",
        "1990-04-02T00:00:00",
        " 1990-04-02",
        "\u0661\u0669\u0669\u0660-\u0660\u0664-\u0660\u0662",
        1990,
    ],
)
def test_birth_date_refuses_other_forms(value: object) -> None:
    error = _refused("birth_date", value)
    assert error.detail == "birth_date must be a date in YYYY-MM-DD form"


@pytest.mark.parametrize("value", ["2023-02-29", "2023-02-30", "1990-13-01", "1990-00-10"])
def test_birth_date_refuses_impossible_dates(value: str) -> None:
    assert "not a real calendar date" in _refused("birth_date", value).detail


def test_birth_date_refuses_future_and_too_old() -> None:
    assert _refused("birth_date", "2025-06-16").detail == "birth_date must not be in the future"
    assert "before 1900-01-01" in _refused("birth_date", "1899-12-31").detail


def test_date_value_is_not_a_date_object() -> None:
    _refused("birth_date", date(1990, 4, 2))


# --- enum ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["FR", "US", "AQ", "ZW"])
def test_country_accepts_iso_codes(value: str) -> None:
    assert _ok("country_of_residence", value) == value


@pytest.mark.parametrize("value", ["fr", "FRA", "XK", "UK", " FR", "", None, 250])
def test_country_refuses_other_values(value: object) -> None:
    error = _refused("country_of_residence", value)
    assert error.detail == ("country_of_residence must be an ISO 3166-1 alpha-2 code such as 'FR'")


# --- list ----------------------------------------------------------------------------


def test_languages_accepts_codes_with_and_without_region() -> None:
    assert _ok("languages", ["en", "pt-BR", "pt", "fr-CA"]) == ["en", "pt-BR", "pt", "fr-CA"]


@pytest.mark.parametrize(
    ("value", "bad_index"),
    [
        (["EN"], 0),
        (["en", "xx"], 1),
        (["eng"], 0),
        (["pt-br"], 0),
        (["pt-XX"], 0),
        (["en", 3], 1),
        (["en-"], 0),
        (["en\n"], 0),
    ],
)
def test_languages_refuses_bad_items(value: list[object], bad_index: int) -> None:
    error = _refused("languages", value)
    assert error.errors[0].loc == ("attributes", "languages", bad_index)
    assert "ISO 639-1" in error.detail


def test_languages_refuses_duplicates_sizes_and_non_lists() -> None:
    assert "must not list 'en' twice" in _refused("languages", ["en", "fr", "en"]).detail
    assert "at most 20 items" in _refused("languages", ["en"] * 21).detail
    assert "at least 1" in _refused("languages", []).detail
    _refused("languages", "en")
    _refused("languages", ("en",))
    _refused("languages", {"en": 1})


# --- string --------------------------------------------------------------------------


def test_legal_name_is_stripped_and_nfc_normalized() -> None:
    assert _ok("legal_name", "  Ada Lovelace ") == "Ada Lovelace"
    decomposed = "Zoe\u0301"
    assert _ok("legal_name", decomposed) == "Zo\u00e9"
    assert _ok("legal_name", "a" * 200) == "a" * 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a" * 201, "at most 200 characters"),
        ("a" * 100_000, "at most 200 characters"),
        ("   ", "must not be empty"),
        ("Ada\nLovelace", "control characters"),
        ("Ada\x00", "control characters"),
        ("Ada\u2028Lovelace", "control characters"),
        (42, "must be a name"),
        (None, "must be a name"),
    ],
)
def test_legal_name_refusals(value: object, message: str) -> None:
    assert message in _refused("legal_name", value).detail


def test_affiliation_accepts_free_text() -> None:
    assert _ok("affiliation", "Université de Lyon") == "Université de Lyon"
    _refused("affiliation", "x" * 201)


@pytest.mark.parametrize("value", ["2512", "0110", "9629", " 2512 "])
def test_occupation_accepts_isco_unit_groups(value: str) -> None:
    assert _ok("occupation", value) == value.strip()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("251", "ISCO-08"),
        ("25a2", "ISCO-08"),
        ("\uff12\uff15\uff11\uff12", "ISCO-08"),  # fullwidth digits
        (2512, "ISCO-08"),
        ("25120", "at most 4 characters"),
        ("", "must not be empty"),
    ],
)
def test_occupation_refuses_non_isco_codes(value: object, message: str) -> None:
    assert message in _refused("occupation", value).detail


# --- integer -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 80])
def test_years_of_experience_accepts_range(value: int) -> None:
    assert _ok("years_of_experience", value) == value


@pytest.mark.parametrize("value", [True, False, 3.0, "3", None])
def test_years_of_experience_refuses_non_integers(value: object) -> None:
    assert "whole number" in _refused("years_of_experience", value).detail


@pytest.mark.parametrize("value", [-1, 81, 10**100])
def test_years_of_experience_refuses_out_of_range(value: int) -> None:
    assert "from 0 to 80" in _refused("years_of_experience", value).detail
