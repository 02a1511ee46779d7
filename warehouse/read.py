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


def current_calls(engine: Engine, *, today, open_only: bool = False, theme: str | None = None,
                  closing_within: int | None = None) -> pd.DataFrame:
    """Current calls, upcoming deadlines first (soonest first), then passed ones, with the days left on `today`: open (or forthcoming)
    only, with a theme, closing within so many days — the filters of `citylinks calls`."""
    from datetime import timedelta

    c = W.funding_call
    with engine.connect() as conn:
        frame = read_frame(conn, select(c.c.call_key, c.c.title, c.c.programme, c.c.status, c.c.opens, c.c.closes,
                                        c.c.budget_eur, c.c.themes, c.c.call_url).where(c.c.is_current == True))  # noqa: E712
    day = today.isoformat()
    if open_only:
        frame = frame[frame["status"].isin(("open", "forthcoming")) & (frame["closes"].fillna("9999") >= day)]
    if theme:
        tags = frame["themes"].fillna("").str.replace(" ", "").str.split(";")
        frame = frame[tags.map(lambda found: theme in found)]
    if closing_within is not None:
        last = (today + timedelta(days=closing_within)).isoformat()
        frame = frame[frame["closes"].notna() & (frame["closes"] >= day) & (frame["closes"] <= last)]
    days_left = pd.to_datetime(frame["closes"], errors="coerce") - pd.Timestamp(day)
    frame = frame.assign(days_left=days_left.dt.days.astype("Int64"), _past=(frame["closes"] < day).fillna(False))
    # upcoming deadlines first, soonest first; then the ones that have passed, latest first
    upcoming = frame[~frame["_past"]].sort_values(["closes", "call_key"], na_position="last")
    past = frame[frame["_past"]].sort_values(["closes", "call_key"], ascending=[False, True])
    return pd.concat([upcoming, past]).drop(columns="_past").reset_index(drop=True)


def programmes_for_municipalities(engine: Engine) -> pd.DataFrame:
    """The view `programmes_for_municipalities`: current programmes municipalities may apply to, per theme."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return read_frame(conn, text("SELECT theme, programme_key, title, funder, amount_max_eur, deadline, "
                                     "deadline_kind, programme_url FROM programmes_for_municipalities "
                                     "ORDER BY theme, title"))
