"""The report's figures from warehouse frames: map points, partner countries, quarantine by
reason. Pure functions on DataFrames."""
from __future__ import annotations

import re

import pandas as pd

#: partner names listed in a map marker's popup
PARTNERS_IN_POPUP = 8


def map_points(municipalities: pd.DataFrame, sides: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    """One row per German municipality with a partnership or a membership: where it is, how many
    of each, its first partners alphabetically (a popup has room for a few) and its networks by
    acronym."""
    partners = (sides.sort_values(["municipality_id", "partner"])
                .assign(label=lambda f: f["partner"] + " (" + f["partner_country"].fillna("?") + ")")
                .groupby("municipality_id")["label"]
                .agg(partnerships="size", partners=lambda s: list(s.head(PARTNERS_IN_POPUP))))
    networks = (memberships.assign(label=memberships["network_acronym"].fillna(memberships["network_name"])
                                   .fillna(memberships["network"]))
                .sort_values(["municipality_id", "label"])
                .groupby("municipality_id")["label"].agg(memberships="size", networks=list))
    points = (municipalities.set_index("municipality_id")
              .join(partners, how="left").join(networks, how="left").reset_index())
    points["partnerships"] = points["partnerships"].fillna(0).astype("int64")
    points["memberships"] = points["memberships"].fillna(0).astype("int64")
    points = points[(points["partnerships"] > 0) | (points["memberships"] > 0)]
    for column in ("partners", "networks"):
        points[column] = points[column].apply(lambda v: v if isinstance(v, list) else [])
    return points.sort_values(["partnerships", "name"], ascending=[False, True]).reset_index(drop=True)


def partner_countries(sides: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Partnerships of German municipalities per foreign partner country, most first."""
    foreign = sides[sides["partner_country"].notna() & (sides["partner_country"] != "DE")]
    counts = (foreign.groupby("partner_country").size().rename("partnerships").reset_index()
              .sort_values(["partnerships", "partner_country"], ascending=[False, True]))
    return counts.head(top).reset_index(drop=True)


def reason_class(reason: str) -> str:
    """A quarantine reason without its row's values: 'identity: both sides resolved to the same
    place', 'has no name', 'start year outside 836–2026'."""
    core = re.sub(r"\s*\[[^\]]*\]\s*$", "", reason or "")
    core = re.sub(r"\s*\([^)]*\)", "", core)
    parts = [part.strip() for part in core.split(": ") if part.strip()]
    if not parts:
        return "(no reason)"
    if len(parts) > 1 and " " not in parts[0]:
        return f"{parts[0]}: {parts[1]}"
    return parts[1] if len(parts) > 1 else parts[0]


def quarantine_by_reason(quarantine: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Rejected rows per source and reason class, with how many this run rejected first and
    one reason as written."""
    if quarantine.empty:
        return pd.DataFrame(columns=["source", "reason", "rows", "new_this_run", "example"])
    frame = quarantine.assign(reason_class=quarantine["reason"].map(reason_class),
                              new=quarantine["first_run_id"] == run_id)
    grouped = frame.groupby(["source", "reason_class"]).agg(rows=("reason", "size"), new_this_run=("new", "sum"),
                                                             example=("reason", "first")).reset_index()
    grouped = grouped.rename(columns={"reason_class": "reason"})
    grouped["new_this_run"] = grouped["new_this_run"].astype("int64")
    return grouped.sort_values(["rows", "source", "reason"], ascending=[False, True, True]).reset_index(drop=True)
