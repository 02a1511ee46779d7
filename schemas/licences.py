"""The licences the sources come under, by SPDX id (or a `LicenseRef-` where none fits).

Each source module names one id (`SourceInfo.licence_id`); exports and the report read what a
row may be reused under from here: whether it must be credited and whether derived data has
to be shared alike (Wikipedia-derived rows: CC BY-SA).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    url: str
    attribution_required: bool
    share_alike: bool


LICENCES: dict[str, Licence] = {licence.id: licence for licence in (
    Licence("CC0-1.0", "CC0 1.0 Universal (public domain dedication)",
            "https://creativecommons.org/publicdomain/zero/1.0/", False, False),
    Licence("CC-BY-4.0", "Creative Commons Attribution 4.0",
            "https://creativecommons.org/licenses/by/4.0/", True, False),
    Licence("CC-BY-SA-4.0", "Creative Commons Attribution-ShareAlike 4.0",
            "https://creativecommons.org/licenses/by-sa/4.0/", True, True),
    Licence("CC-BY-ND-3.0-DE", "Creative Commons Attribution-NoDerivs 3.0 Germany (texts stored unaltered)",
            "https://creativecommons.org/licenses/by-nd/3.0/de/", True, False),
    Licence("DL-DE-BY-2.0", "Datenlizenz Deutschland – Namensnennung – Version 2.0",
            "https://www.govdata.de/dl-de/by-2-0", True, False),
    Licence("MIT", "MIT License", "https://opensource.org/license/mit", True, False),
    Licence("LicenseRef-EU-Reuse-2011-833", "Commission Decision 2011/833/EU on the reuse of Commission documents",
            "https://eur-lex.europa.eu/eli/dec/2011/833/oj", True, False),
    Licence("LicenseRef-Facts-No-Licence", "no licence stated: facts compiled from public pages; credit the source",
            "", True, False),
)}


def licence(licence_id: str) -> Licence:
    """The licence of an id; an unknown id is an error in the source's declaration."""
    try:
        return LICENCES[licence_id]
    except KeyError:
        raise KeyError(f"unknown licence id {licence_id!r}: add it to schemas/licences.py") from None
