"""Deriving disclosures: every precision of the shipped catalog, birthdays and 29 February."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.domain.catalog import default_catalog
from personae.domain.disclosure import age_on, derive
from personae.errors import InvalidInput, UnknownAttribute

TODAY = date(2025, 6, 15)
BIRTH = default_catalog().get("birth_date")
AGE_OVER = (13, 16, 18, 21)
BAND_BOUNDS = {  # label -> (youngest, oldest) age in the band
    "under_13": (0, 12),
    "13-15": (13, 15),
    "16-17": (16, 17),
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65+": (65, 200),
}


def test_exact_and_year() -> None:
    assert derive(BIRTH, "exact", "1990-04-02", TODAY) == "1990-04-02"
    year = derive(BIRTH, "year", "1990-04-02", TODAY)
    assert year == 1990 and type(year) is int


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (date(2007, 6, 15), date(2025, 6, 14), 17),  # the day before the 18th birthday
        (date(2007, 6, 15), date(2025, 6, 15), 18),  # on the birthday
        (date(2007, 6, 15), date(2025, 6, 16), 18),
        (date(2004, 2, 29), date(2022, 2, 28), 17),  # 29 Feb, common year: not yet
        (date(2004, 2, 29), date(2022, 3, 1), 18),  # ... reached on 1 March
        (date(2004, 2, 29), date(2024, 2, 28), 19),  # leap year: 28 Feb is still before
        (date(2004, 2, 29), date(2024, 2, 29), 20),  # ... reached on 29 Feb itself
        (date(2000, 12, 31), date(2001, 12, 30), 0),
        (date(2000, 1, 1), date(2000, 1, 1), 0),
    ],
)
def test_age_on_birthdays_and_29_february(birth: date, today: date, age: int) -> None:
    assert age_on(birth, today) == age


@pytest.mark.parametrize(
    ("birth", "today", "expected"),
    [
        ("2007-06-15", date(2025, 6, 14), False),
        ("2007-06-15", date(2025, 6, 15), True),
        ("2007-02-28", date(2025, 2, 27), False),
        ("2007-02-28", date(2025, 2, 28), True),
        ("2004-02-29", date(2022, 2, 28), False),
        ("2004-02-29", date(2022, 3, 1), True),
    ],
)
def test_age_over_18_on_the_birthday(birth: str, today: date, expected: bool) -> None:
    assert derive(BIRTH, "age_over_18", birth, today) is expected


@pytest.mark.parametrize("threshold", AGE_OVER)
def test_every_age_over_predicate_flips_on_its_birthday(threshold: int) -> None:
    birth = "2000-03-10"
    eve, day = date(2000 + threshold, 3, 9), date(2000 + threshold, 3, 10)
    assert derive(BIRTH, f"age_over_{threshold}", birth, eve) is False
    assert derive(BIRTH, f"age_over_{threshold}", birth, day) is True


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (0, "under_13"),
        (12, "under_13"),
        (13, "13-15"),
        (15, "13-15"),
        (16, "16-17"),
        (17, "16-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-44"),
        (44, "35-44"),
        (45, "45-54"),
        (54, "45-54"),
        (55, "55-64"),
        (64, "55-64"),
        (65, "65+"),
        (110, "65+"),
    ],
)
def test_age_band_boundaries(age: int, label: str) -> None:
    birth = date(TODAY.year - age, TODAY.month, TODAY.day)  # birthday today
    assert derive(BIRTH, "age_band", birth.isoformat(), TODAY) == label
    if age > 0:
        day_before_birthday = birth + timedelta(days=1)
        assert derive(BIRTH, "age_band", day_before_birthday.isoformat(), TODAY) == _band_of(
            age - 1
        )


def _band_of(age: int) -> str:
    return next(label for label, (lo, hi) in BAND_BOUNDS.items() if lo <= age <= hi)


def test_region_is_the_un_m49_region() -> None:
    country = default_catalog().get("country_of_residence")
    expected = {
        "FR": "Europe",
        "RU": "Europe",
        "US": "Americas",
        "BR": "Americas",
        "GL": "Americas",
        "JP": "Asia",
        "TR": "Asia",
        "CY": "Asia",
        "NG": "Africa",
        "RE": "Africa",
        "AU": "Oceania",
        "UM": "Oceania",
        "AQ": "Antarctica",
        "BV": "Americas",
        "IO": "Africa",
        "TF": "Africa",
        "HM": "Oceania",
    }
    for code, region in expected.items():
        assert derive(country, "region", code, TODAY) == region, code
    assert derive(country, "exact", "FR", TODAY) == "FR"


def test_every_country_has_one_of_six_regions() -> None:
    country = default_catalog().get("country_of_residence")
    regions = {derive(country, "region", code, TODAY) for code in country.constraints.values}
    assert regions == {"Africa", "Americas", "Asia", "Europe", "Oceania", "Antarctica"}


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("0110", "0 Armed forces occupations"),
        ("1120", "1 Managers"),
        ("2512", "2 Professionals"),
        ("3112", "3 Technicians and associate professionals"),
        ("4110", "4 Clerical support workers"),
        ("5120", "5 Service and sales workers"),
        ("6111", "6 Skilled agricultural, forestry and fishery workers"),
        ("7112", "7 Craft and related trades workers"),
        ("8111", "8 Plant and machine operators, and assemblers"),
        ("9112", "9 Elementary occupations"),
    ],
)
def test_occupation_major_group(code: str, group: str) -> None:
    occupation = default_catalog().get("occupation")
    assert derive(occupation, "major_group", code, TODAY) == group
    assert derive(occupation, "unit_group", code, TODAY) == code


@pytest.mark.parametrize(
    ("years", "label"),
    [
        (0, "0-1"),
        (1, "0-1"),
        (2, "2-4"),
        (4, "2-4"),
        (5, "5-9"),
        (9, "5-9"),
        (10, "10-19"),
        (19, "10-19"),
        (20, "20+"),
        (80, "20+"),
    ],
)
def test_years_of_experience_band(years: int, label: str) -> None:
    spec = default_catalog().get("years_of_experience")
    assert derive(spec, "band", years, TODAY) == label
    assert derive(spec, "exact", years, TODAY) == years


def test_languages_exact_is_the_normalized_list() -> None:
    spec = default_catalog().get("languages")
    assert derive(spec, "exact", ["fr", "pt-BR"], TODAY) == ["fr", "pt-BR"]


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(UnknownAttribute, match=r"no precision 'decade'.*offers: exact, year"):
        derive(BIRTH, "decade", "1990-04-02", TODAY)
    with pytest.raises(UnknownAttribute):
        derive(default_catalog().get("legal_name"), "year", "Ada", TODAY)


def test_invalid_value_is_refused_before_derivation() -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        derive(BIRTH, "year", "02/04/1990", TODAY)
    with pytest.raises(InvalidInput, match="future"):
        derive(BIRTH, "age_over_18", "2030-01-01", TODAY)


def _reference_age(birth: date, today: date) -> int:
    """Count the anniversaries passed; a 29 February one falls on 1 March in common years."""
    age = 0
    while True:
        year = birth.year + age + 1
        try:
            anniversary = birth.replace(year=year)
        except ValueError:
            anniversary = date(year, 3, 1)
        if anniversary > today:
            return age
        age += 1


births = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@given(births, days)
def test_age_over_agrees_with_age_band_and_year(birth: date, today: date) -> None:
    if birth > today:
        birth, today = today, birth
    text = birth.isoformat()
    year = derive(BIRTH, "year", text, today)
    band = derive(BIRTH, "age_band", text, today)
    assert isinstance(year, int) and isinstance(band, str)
    youngest, oldest = BAND_BOUNDS[band]
    # The year alone bounds the age within one year; the band bounds it within the band.
    low = max(youngest, today.year - year - 1)
    high = min(oldest, today.year - year)
    assert low <= high
    for threshold in AGE_OVER:
        over = derive(BIRTH, f"age_over_{threshold}", text, today)
        assert over is (_reference_age(birth, today) >= threshold)
        if low >= threshold:
            assert over is True
        if high < threshold:
            assert over is False
