"""Country names and codes as published by the lists, mapped to ISO 3166-1 alpha-2."""

from __future__ import annotations

from functools import lru_cache

import pycountry

__all__ = ["country_code"]

# Names the lists use that ISO's tables do not carry verbatim.
_ALIASES = {
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "north korea": "KP",
    "korea, north": "KP",
    "democratic people's republic of korea": "KP",
    "south korea": "KR",
    "korea, south": "KR",
    "venezuela": "VE",
    "bolivia": "BO",
    "tanzania": "TZ",
    "vietnam": "VN",
    "laos": "LA",
    "moldova": "MD",
    "burma": "MM",
    "czech republic": "CZ",
    "turkey": "TR",
    "ivory coast": "CI",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "palestinian": "PS",
    "kosovo": "XK",
    "united kingdom": "GB",
    "uk": "GB",
    "usa": "US",
    "united states": "US",
}


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        alpha2 = str(country.alpha_2)
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[str(value).casefold()] = alpha2
    table.update(_ALIASES)
    return table


def country_code(value: str) -> str | None:
    """The ISO alpha-2 code for a code or name (any case), or None when it is not a country."""
    key = " ".join(value.replace("_", " ").split()).casefold()
    if not key:
        return None
    return _table().get(key)
