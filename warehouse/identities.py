"""Pure identity rules: which surrogate municipality each piece of evidence points at.

Staging names each side of a relation by its *evidence key* — `gn:<GeoNames id>` when the
resolver found the place, `ags:<AGS>` when the official register did, else `wd:<QID>` or
`nm:<ISO2>:<normalised name>` — and carries the
identifiers the source stated (QID, AGS). None of these becomes a key: a `municipality_id`
(`m:00000042`) is minted once, and `municipality_identifier` records which evidence points at it.

Rules, tested without a database:
- the strongest identifier that is already known decides (AGS, then GeoNames, then QID, then
  name); unknown ones are attached to that identity, or to a newly minted one;
- two identities that turn out to be one place are merged, the weaker into the stronger, when
  the weaker has no official or gazetteer identifier of its own (a name- or QID-only identity
  is a placeholder; two identities with different GeoNames ids are two places and stay apart,
  counted as a conflict);
- a source row whose side moved from a placeholder identity to another one (the resolver got
  better) merges the placeholder into it, unless the placeholder moved to several places.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

#: Evidence-key prefix → identifier scheme.
SCHEME_OF_KEY = {"ags": "ags", "gn": "geonames", "wd": "wikidata", "nm": "name"}
#: Lower is stronger evidence of *which* place.
SCHEME_RANK = {"ags": 0, "geonames": 1, "wikidata": 2, "name": 3}
#: An identity holding one of these is a real, identified place, never merged away.
STRONG_SCHEMES = frozenset({"ags", "geonames"})
ID_PREFIX = "m:"
ID_DIGITS = 8


def format_id(number: int) -> str:
    return f"{ID_PREFIX}{number:0{ID_DIGITS}d}"


def id_number(municipality_id: str | None) -> int:
    """Numeric part of a surrogate id; 0 for anything else (so minting starts at 1)."""
    if not municipality_id or not municipality_id.startswith(ID_PREFIX):
        return 0
    tail = municipality_id[len(ID_PREFIX):]
    return int(tail) if tail.isdigit() else 0


def evidence_identifiers(municipalities: pd.DataFrame) -> pd.DataFrame:
    """(key, scheme, value) for each staged identity: its own key, and the GeoNames id, QID and
    AGS it carries. `municipalities` has the staged evidence key in `municipality_id`."""
    if municipalities.empty:
        return pd.DataFrame({"key": [], "scheme": [], "value": []}, dtype="string")
    key = municipalities["municipality_id"].astype("string")
    own = key.str.split(":", n=1, expand=True)
    frames = [pd.DataFrame({"key": key, "scheme": own[0].map(SCHEME_OF_KEY), "value": own[1]})]
    for column, scheme in (("geonames_id", "geonames"), ("wikidata_qid", "wikidata"), ("ags", "ags")):
        if column in municipalities:
            value = municipalities[column]
            if column == "geonames_id":  # 2886242, never "2886242.0", whatever dtype it arrives in
                value = pd.to_numeric(value, errors="coerce").astype("Int64")
            value = value.astype("string")
            frames.append(pd.DataFrame({"key": key, "scheme": scheme, "value": value}))
    out = pd.concat(frames, ignore_index=True).dropna()
    out = out[out["value"].str.len() > 0]
    return out.drop_duplicates().astype("string").reset_index(drop=True)


@dataclass
class Assignment:
    ids: dict[str, str]  # evidence key → municipality_id (after merges)
    attached: pd.DataFrame  # scheme, value, municipality_id, method: identifiers new to the crosswalk
    repointed: pd.DataFrame  # scheme, value, municipality_id: known identifiers now pointing elsewhere
    redirects: dict[str, str]  # merged municipality_id → survivor
    reasons: dict[str, str]  # merged municipality_id → why
    minted: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # evidence that points at two identified places
    strong: set[str] = field(default_factory=set)


def assign(evidence: pd.DataFrame, known: pd.DataFrame, next_number: int,
           moves: pd.DataFrame | None = None) -> Assignment:
    """Map evidence keys to identities.

    `evidence`: key, scheme, value (see `evidence_identifiers`); `known`: the crosswalk rows
    (scheme, value, municipality_id) for those values and for the identities in `moves`;
    `moves`: old_1, old_2, key_a, key_b — a source row that named identities old_1|old_2 and now
    carries evidence keys key_a, key_b.
    Deterministic: keys are taken strongest first, then in key order, so ids are minted in the
    same order on every backend.
    """
    state = _Crosswalk(known, next_number)
    settled = _settled(evidence, known)
    state.ids.update(settled)
    by_key: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    rest = evidence[~evidence["key"].isin(settled)]
    for key, scheme, value in rest[["key", "scheme", "value"]].itertuples(index=False):
        by_key[key].append((SCHEME_RANK[scheme], scheme, value))
    for key in sorted(by_key, key=lambda k: (min(r for r, _, _ in by_key[k]), k)):
        state.ids[key] = state.place(sorted(by_key[key]), key)
    if moves is not None and len(moves):
        state.follow_moves(moves)
    ids = {key: state.resolve(mid) for key, mid in state.ids.items()}
    return Assignment(ids, state.attached_frame(), state.repointed_frame(), dict(state.redirects),
                      dict(state.reasons), state.minted, state.conflicts, state.strong)


def _settled(evidence: pd.DataFrame, known: pd.DataFrame) -> dict[str, str]:
    """Keys whose every identifier is known and points at one identity: the loop below would
    change nothing for them (the common case of a rerun), so they are answered at once."""
    if evidence.empty or known.empty:
        return {}
    hits = evidence.merge(known[["scheme", "value", "municipality_id"]], on=["scheme", "value"], how="left")
    per_key = hits.groupby("key", sort=False)["municipality_id"].agg(["count", "size", "nunique", "first"])
    done = per_key[(per_key["count"] == per_key["size"]) & (per_key["nunique"] == 1)]
    return dict(zip(done.index, done["first"]))


class _Crosswalk:
    """The crosswalk while a batch is assigned: lookups, owners, merges."""

    def __init__(self, known: pd.DataFrame, next_number: int):
        self.lookup: dict[tuple[str, str], str] = {}
        self.owned: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.strong: set[str] = set()
        for scheme, value, mid in known[["scheme", "value", "municipality_id"]].itertuples(index=False):
            self.lookup[(scheme, value)] = mid
            self.owned[mid].add((scheme, value))
            if scheme in STRONG_SCHEMES:
                self.strong.add(mid)
        self.known = set(self.lookup)
        self.next_number = next_number
        self.ids: dict[str, str] = {}
        self.attached: dict[tuple[str, str], tuple[str, str]] = {}  # → (mid, method)
        self.repointed: dict[tuple[str, str], str] = {}
        self.redirects: dict[str, str] = {}
        self.reasons: dict[str, str] = {}
        self.minted: list[str] = []
        self.conflicts: list[str] = []

    def resolve(self, mid: str) -> str:
        while mid in self.redirects:
            mid = self.redirects[mid]
        return mid

    def mint(self) -> str:
        mid = format_id(self.next_number)
        self.next_number += 1
        self.minted.append(mid)
        return mid

    def place(self, identifiers: list[tuple[int, str, str]], key: str) -> str:
        mine = {(scheme, value) for _, scheme, value in identifiers if scheme in STRONG_SCHEMES}
        chosen = None
        for _, scheme, value in identifiers:
            mid = self.lookup.get((scheme, value))
            if mid is None:
                continue
            mid = self.resolve(mid)
            if self.clashes(mid, mine):  # e.g. two GeoNames places sharing one QID: never one identity
                self.conflicts.append(f"{key}: {scheme} {value} points at {mid}, which is another identified "
                                      "place; not followed")
                continue
            if chosen is None:
                chosen = mid
            elif mid != chosen:
                chosen = self.unite(chosen, mid, f"{key} carries {scheme} {value}")
        if chosen is None:
            chosen = self.mint()
        for _, scheme, value in identifiers:
            if (scheme, value) not in self.lookup:
                self.attach(scheme, value, chosen, "evidence")
        return chosen

    def clashes(self, mid: str, strong: set[tuple[str, str]]) -> bool:
        """`mid` holds another value of a scheme the evidence states (one place, one AGS/GeoNames id)."""
        schemes = {scheme for scheme, _ in strong}
        return any(scheme in schemes and (scheme, value) not in strong for scheme, value in self.owned.get(mid, ()))

    def unite(self, chosen: str, other: str, why: str) -> str:
        """One piece of evidence says two identities are one place: keep the identified one."""
        if other not in self.strong:
            self.merge(other, chosen, why)
            return chosen
        if chosen not in self.strong:
            self.merge(chosen, other, why)
            return other
        self.conflicts.append(f"{why}, but {chosen} and {other} are two identified places; kept apart")
        return chosen

    def attach(self, scheme: str, value: str, mid: str, method: str) -> None:
        self.lookup[(scheme, value)] = mid
        self.owned[mid].add((scheme, value))
        if (scheme, value) in self.known:
            self.repointed[(scheme, value)] = mid
        else:
            self.attached[(scheme, value)] = (mid, method)
        if scheme in STRONG_SCHEMES:
            self.strong.add(mid)

    def merge(self, loser: str, survivor: str, why: str) -> None:
        self.redirects[loser] = survivor
        self.reasons[loser] = why
        for scheme, value in sorted(self.owned.pop(loser, set())):
            self.attach(scheme, value, survivor, "merge")

    def follow_moves(self, moves: pd.DataFrame) -> None:
        """A row that named {X, Y} and now names {X, Z}: Y became Z. Merged when Y is a
        placeholder that moved to one place only."""
        targets = defaultdict(set)
        for old_1, old_2, key_a, key_b in moves[["old_1", "old_2", "key_a", "key_b"]].itertuples(index=False):
            if key_a not in self.ids or key_b not in self.ids:
                continue
            olds = {self.resolve(old_1), self.resolve(old_2)}
            news = {self.resolve(self.ids[key_a]), self.resolve(self.ids[key_b])}
            kept = olds & news
            if len(olds) == 2 and len(news) == 2 and len(kept) == 1:
                [old], [new] = olds - kept, news - kept
                targets[old].add(new)
        for old in sorted(targets):
            places = targets[old]
            if len(places) == 1 and old not in self.strong and old not in self.redirects:
                [survivor] = places
                self.merge(old, survivor, f"the same source rows now resolve to {survivor}")

    def attached_frame(self) -> pd.DataFrame:
        rows = [(s, v, self.resolve(mid), method) for (s, v), (mid, method) in sorted(self.attached.items())]
        return pd.DataFrame(rows, columns=["scheme", "value", "municipality_id", "method"], dtype="string")

    def repointed_frame(self) -> pd.DataFrame:
        rows = [(s, v, self.resolve(mid)) for (s, v), mid in sorted(self.repointed.items())]
        return pd.DataFrame(rows, columns=["scheme", "value", "municipality_id"], dtype="string")


def remap(ids: pd.Series, redirects: dict[str, str]) -> pd.Series:
    """Follow redirects (chains included) on a column of municipality ids."""
    if not redirects:
        return ids
    out = ids.copy()
    for _ in range(len(redirects) + 1):
        moved = out.map(redirects)
        if moved.isna().all():
            return out
        out = moved.where(moved.notna(), out)
    raise ValueError("redirect cycle")


#: A placeholder is settled by its partners only when it shares at least this many with one
#: candidate and none with any other.
MIN_SHARED_PARTNERS = 1


def settle_by_partners(candidates: pd.DataFrame, pairs: pd.DataFrame,
                       min_shared: int = MIN_SHARED_PARTNERS) -> pd.DataFrame:
    """Placeholders that their twin towns identify: (from_id, to_id, reason).

    `candidates`: municipality_id (a placeholder: a QID the register could not place), candidate_id
    (an identified place it may be); `pairs`: a, b — the current assertions' sides. Wikidata's
    "Frankfurt" (Q1794, a name two official municipalities bear) twinned with Lyon, Milan and
    Birmingham is Frankfurt am Main when other sources twin those with Frankfurt am Main and none
    with Frankfurt (Oder). A candidate that is itself a partner of the placeholder is not it (no
    town is its own twin). Undecided where two candidates share partners, or none does.
    """
    empty = pd.DataFrame({"from_id": [], "to_id": [], "reason": []}, dtype="string")
    if candidates.empty or pairs.empty:
        return empty
    sides = pd.concat([pairs.rename(columns={"a": "id", "b": "partner"}),
                       pairs.rename(columns={"b": "id", "a": "partner"})], ignore_index=True)
    sides = sides[sides["id"] != sides["partner"]].drop_duplicates()
    own = sides[sides["id"].isin(candidates["municipality_id"])].rename(columns={"id": "municipality_id"})
    theirs = sides[sides["id"].isin(candidates["candidate_id"])].rename(columns={"id": "candidate_id"})
    options = candidates[["municipality_id", "candidate_id"]].drop_duplicates()
    twinned = options.merge(own, left_on=["municipality_id", "candidate_id"],
                            right_on=["municipality_id", "partner"], how="left", indicator=True)
    options = options[(twinned["_merge"] == "left_only").to_numpy()]  # a candidate it is twinned with is not it
    shared = options.merge(own, on="municipality_id").merge(theirs, on=["candidate_id", "partner"])
    counts = shared.groupby(["municipality_id", "candidate_id"]).size().rename("shared").reset_index()
    counts = options.merge(counts, on=["municipality_id", "candidate_id"], how="left").fillna({"shared": 0})
    per = counts.groupby("municipality_id")["shared"].agg(best="max", hits=lambda s: int((s > 0).sum()),
                                                          options="size")
    totals = own.groupby("municipality_id").size().rename("partners")
    decided = per[(per["best"] >= min_shared) & (per["hits"] == 1)].join(totals)
    if decided.empty:
        return empty
    winners = counts[counts["municipality_id"].isin(decided.index) & (counts["shared"] > 0)]
    winners = winners.set_index("municipality_id").join(decided)
    reasons = [f"its twin towns: {int(s)} of its {int(t)} partners are twinned with {c} too, with none of "
               f"the other {int(o) - 1} candidate(s)"
               for c, s, t, o in zip(winners["candidate_id"], winners["shared"], winners["partners"], winners["options"])]
    return pd.DataFrame({"from_id": winners.index, "to_id": winners["candidate_id"].to_numpy(),
                         "reason": reasons}, dtype="string").sort_values("from_id", ignore_index=True)
