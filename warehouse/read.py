"""What the warehouse answers people directly (the CLI's questions), read-only."""
from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import Engine, func, or_, select

from schemas import warehouse as W
from warehouse.rows import read_frame


def find_municipalities(engine: Engine, who: str) -> pd.DataFrame:
    """Live identities named by `who`: a municipality_id, an AGS (8 digits) or a name (as the
    warehouse or the official register writes it, case-insensitive). Merged identities lead to
    their survivor."""
    m = W.municipality
    text = who.strip()
    if re.fullmatch(r"m:\d{8}", text):
        condition = m.c.municipality_id == text
    elif re.fullmatch(r"\d{8}", text):
        condition = m.c.ags == text
    else:
        condition = or_(func.lower(m.c.name) == text.lower(), func.lower(m.c.official_name) == text.lower())
    with engine.connect() as conn:
        found = read_frame(conn, select(m.c.municipality_id, m.c.merged_into).where(condition))
        ids = sorted(set(found["merged_into"].fillna(found["municipality_id"])))
        return read_frame(conn, select(m.c.municipality_id, m.c.name, m.c.kind, m.c.country_code, m.c.ags,
                                       m.c.region_name).where(m.c.municipality_id.in_(ids))
                          .order_by(m.c.country_code, m.c.name, m.c.municipality_id))


def memberships_of(engine: Engine, municipality_id: str) -> pd.DataFrame:
    """The identity's current memberships with since/until/status and the sources stating each."""
    ms, src, org = W.membership, W.membership_source, W.organisation
    with engine.connect() as conn:
        current = read_frame(conn, select(ms.c.membership_key, ms.c.network, org.c.name_en, ms.c.status, ms.c.role,
                                          ms.c.since_year, ms.c.since_date, ms.c.until_year)
                             .select_from(ms.outerjoin(org, (org.c.organisation_key == ms.c.network)
                                                       & (org.c.is_current == True)))  # noqa: E712
                             .where(ms.c.municipality_id == municipality_id, ms.c.is_current == True)  # noqa: E712
                             .order_by(ms.c.network))
        stated = read_frame(conn, select(src.c.membership_key, src.c.source).where(
            src.c.membership_key.in_(current["membership_key"].tolist()), src.c.is_current == True))  # noqa: E712
    by_key = stated.groupby("membership_key")["source"].agg(lambda s: ", ".join(sorted(set(s))))
    return current.assign(sources=current["membership_key"].map(by_key)).drop(columns="membership_key")
