"""Funding programmes: the sources' words → the domain's vocabulary, each tag with its rule.

Pure. Region (Bund / Land / EU, which Länder), who may apply (a small vocabulary and the
`municipalities_eligible` flag), themes — each theme with the rule and field that set it, so a
reader can see why a programme counts as "partnership". Amounts and deadlines come from
`transforms.funding_text` with their text spans.
"""
from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd

from schemas import warehouse as W
from schemas.funders import alias_pattern, aliases
from schemas.funding import LAENDER, THEMES, deadline_day
from schemas.records import REJECT_REASON
from schemas.warehouse import CALL_TRACKED, PROGRAMME_TRACKED, row_hash
from transforms import partnerships as P
from transforms.quality import validate
from transforms.staging import StagedSource
from transforms.storable import violations

#: Abbreviations the sources use for a Land.
LAND_ALIASES = {"NRW": "Nordrhein-Westfalen"}
_LAND = re.compile("|".join(re.escape(name) for name in sorted([*LAENDER, *LAND_ALIASES], key=len, reverse=True)))
#: "bundesweit" (Förderdatenbank), "Bund"; the EU as a region.
_NATIONWIDE = re.compile(r"\bbundesweit\b|^Bund$", re.IGNORECASE)
_EU = re.compile(r"\b(?:EU|Europäische Union|europaweit|European Union)\b")
#: A federal ministry as funder (SKEW's programmes are the BMZ's).
_FEDERAL_FUNDER = re.compile(r"\b(?:BMZ|BMWK|BMWi|BMBF|BMI|BMFSFJ|Bundesministerium|Bundesamt)")

#: Who may apply: the sources' words → class (Förderdatenbank's Förderberechtigte labels first).
ELIGIBLE_RULES = (
    ("municipality", re.compile(r"Kommune|Gemeinde|Landkreis|Städte|municipalit|local authorit", re.IGNORECASE)),
    ("association", re.compile(r"Verband|Vereinigung|associations?\b", re.IGNORECASE)),
    ("company", re.compile(r"Unternehmen|Existenzgründer|compan", re.IGNORECASE)),
    ("research", re.compile(r"Hochschule|Forschungseinrichtung|universit|research", re.IGNORECASE)),
    ("public_body", re.compile(r"Öffentliche Einrichtung|Bildungseinrichtung|public bod", re.IGNORECASE)),
    ("person", re.compile(r"Privatperson|Einzelperson|Fachexpert", re.IGNORECASE)),
    ("ngo", re.compile(r"Verein\b|Nichtregierungsorganisation|Zivilgesellschaft|\bNGO", re.IGNORECASE)),
)

#: What a programme gives: Förderart words (Förderdatenbank) and the curated kinds (SKEW).
FUNDING_TYPE_RULES = (
    ("grant", re.compile(r"Zuschuss|Zuweisung|\bgrant|\bmoney|Lump sum", re.I)),
    ("loan", re.compile(r"Darlehen|Kredit|\bloan", re.I)),
    ("equity", re.compile(r"Beteiligung|equity", re.I)),
    ("guarantee", re.compile(r"Bürgschaft|Garantie|guarantee", re.I)),
    ("advice", re.compile(r"Beratung|\badvice", re.I)),
    ("in_kind", re.compile(r"\bin_kind\b|Sachleistung|in-kind", re.I)),
    ("networking", re.compile(r"networking|Vernetzung", re.I)),
    ("prize", re.compile(r"Preis|\bprize", re.I)),
)

#: Themes by words in the title, the areas or the summary; the first field that matches is named.
THEME_RULES = (
    ("partnership", re.compile(r"Partnerschaft|Städtepartner|Partnerkommune|twinning|Networks of Towns", re.I)),
    ("development_cooperation", re.compile(r"Entwicklungszusammenarbeit|Entwicklungspolitik|Eine[nr]? Welt|"
                                           r"DAC|development cooperation", re.I)),
    ("climate", re.compile(r"Klima|climate", re.I)),
    ("europe_citizenship", re.compile(r"Bürgerbeteiligung|Bürgerschaft|Unionsbürger|citizens|CERV", re.I)),
    ("integration", re.compile(r"Integration|Migration|Geflüchtete|Flüchtling|refugee", re.I)),
    ("ukraine", re.compile(r"Ukrain", re.I)),
    ("youth", re.compile(r"\bJugend|youth", re.I)),
    ("culture", re.compile(r"\bKultur|\bculture", re.I)),
)
THEME_FIELDS = ("title", "areas", "summary")


def region_levels(region: pd.Series, funder: pd.Series) -> pd.DataFrame:
    """(region_level, laender): the Länder named in the region → land; the EU → eu; 'bundesweit'
    or a federal funder (the BMZ's programmes name their partner regions, not a German one) →
    bund; another stated region → other; nothing stated → NA (not a guess)."""
    region = region.astype("string")
    laender = region.map(_laender, na_action="ignore").astype("string")
    nationwide = region.str.contains(_NATIONWIDE, na=False)
    eu = region.str.contains(_EU, na=False)
    federal = funder.astype("string").str.contains(_FEDERAL_FUNDER, na=False)
    level = pd.Series(pd.NA, index=region.index, dtype="string")
    level = level.mask(federal | nationwide, "bund").mask(eu & ~nationwide, "eu")
    level = level.mask(laender.notna() & ~nationwide & ~federal, "land")
    level = level.mask(level.isna() & region.notna(), "other")
    return pd.DataFrame({"region_level": level, "laender": laender.where(level == "land")})


def funder_keys(funder: pd.Series) -> pd.Series:
    """The funder named first in the text ("BMZ via SKEW (Engagement Global) with GIZ" → BMZ; the
    implementers after it are not funders); NA where the text names no curated funder."""
    first = funder.astype("string").str.extract(alias_pattern(), expand=False)
    return first.map(dict(aliases()), na_action="ignore").astype("string")


def _laender(text: str) -> str | None:
    found = sorted({LAND_ALIASES.get(match, match) for match in _LAND.findall(text)})
    return "; ".join(found) or None


def funding_types(funding_type: pd.Series) -> pd.Series:
    """Förderart as written → the vocabulary ('; '-joined); a stated type no rule knows → 'other'."""
    text = funding_type.astype("string")
    hits = pd.DataFrame({name: text.str.contains(pattern, na=False) for name, pattern in FUNDING_TYPE_RULES})
    types = hits.apply(lambda row: "; ".join(name for name, hit in row.items() if hit) or None, axis=1)
    types = pd.Series(types, index=text.index, dtype="string")
    return types.mask(types.isna() & text.notna(), "other").where(text.notna())


def eligible_classes(eligible: pd.Series) -> pd.DataFrame:
    """(eligible_classes, municipalities_eligible); NA where the source says nothing."""
    text = eligible.astype("string")
    hits = pd.DataFrame({name: text.str.contains(pattern, na=False) for name, pattern in ELIGIBLE_RULES})
    classes = hits.apply(lambda row: "; ".join(name for name, hit in row.items() if hit) or None, axis=1)
    classes = pd.Series(classes, index=text.index, dtype="string").where(text.notna())
    flag = hits["municipality"].astype("boolean").where(text.notna(), pd.NA)
    return pd.DataFrame({"eligible_classes": classes, "municipalities_eligible": flag})


def themes(frame: pd.DataFrame, stated: pd.Series | None = None) -> pd.DataFrame:
    """(themes, theme_rules): a theme a source states as one (a curated list) is taken with rule
    'stated'; the others by the first field whose words match, rule '<theme>: <field> matches /…/'."""
    texts = {f: frame[f].astype("string").fillna("") if f in frame else pd.Series("", index=frame.index)
             for f in THEME_FIELDS}
    stated_sets = (stated.astype("string").fillna("").str.split(r";\s*") if stated is not None
                   else pd.Series([[]] * len(frame), index=frame.index))
    tags, rules = [], []
    for i in frame.index:
        own = [t for t in stated_sets[i] if t in THEMES]
        found, why = list(own), [f"{t}: stated by the source" for t in own]
        for theme, pattern in THEME_RULES:
            if theme in found:
                continue
            field = next((f for f in THEME_FIELDS if pattern.search(texts[f][i])), None)
            if field:
                found.append(theme)
                why.append(f"{theme}: {field} matches /{pattern.pattern}/")
        tags.append("; ".join(found) or None)
        rules.append(" | ".join(why) or None)
    return pd.DataFrame({"themes": pd.array(tags, dtype="string"), "theme_rules": pd.array(rules, dtype="string")},
                        index=frame.index)


#: Facts extracted from free text: (column, its evidence columns' prefix).
EXTRACTED = ("amount_min_eur", "amount_max_eur", "funding_share_pct", "own_contribution_pct", "duration_months",
             "deadline")
#: Columns of `funding_programme_source` as staged (plus what the gate checks).
PROGRAMME_COLUMNS = ["source", "record_key", "programme_key", *[c.name for c in W.funding_programme_source.c
                                                               if c.name in PROGRAMME_TRACKED and c.name != "programme_key"],
                     "extracted_at"]


def stage_funding(raw: pd.DataFrame, *, today: date | None = None) -> StagedSource:
    """One funding source's programmes → `funding_programme_source` rows: the source's words kept,
    the vocabulary and the extracted facts (with their evidence) added, the suite applied."""
    from transforms.funding_text import funding_facts

    source, ok, rejected, collapsed = _prepared(raw)
    facts = funding_facts(ok, today or deadline_day())
    programmes = pd.concat([
        ok.drop(columns=[c for c in (*EXTRACTED, "deadline_kind", REJECT_REASON) if c in ok]),
        region_levels(ok["region"], ok["funder"]), eligible_classes(ok["eligible"]),
        themes(ok, stated=ok["areas"] if source == "skew_programmes" else None),
        funder_keys(ok["funder"]).rename("funder_key"), funding_types(ok["funding_type"]).rename("funding_types"),
        facts[[*EXTRACTED, "deadline_kind"]]], axis=1)
    programmes["programme_key"] = (programmes["source"] + ":" + programmes["record_key"]).astype("string")
    programmes["evidence"] = _evidence(facts, programmes["theme_rules"])
    return _gated(source, len(raw), ok, programmes.reindex(columns=PROGRAMME_COLUMNS), "funding_programme_source",
                  W.funding_programme_source, PROGRAMME_TRACKED, rejected, collapsed)


def _prepared(raw: pd.DataFrame) -> tuple[str, pd.DataFrame, list[pd.DataFrame], int]:
    """(source, rows the parser accepted, rows already rejected, exact copies collapsed)."""
    source = str(raw["source"].iloc[0]) if len(raw) else ""
    ok, rejected = P.split_rejected(raw)
    before = len(ok)
    ok, conflicting = P.dedupe(ok)
    return source, ok.reset_index(drop=True), [rejected, conflicting], before - len(ok) - len(conflicting)


def _gated(source: str, rows_extracted: int, ok: pd.DataFrame, staged: pd.DataFrame, suite: str, table,
           tracked: list[str], rejected: list[pd.DataFrame], collapsed: int) -> StagedSource:
    """The suite and the warehouse's columns decide row by row; failing rows go to quarantine with
    every reason, the others are staged with their row hash."""
    ok = ok.assign(**{REJECT_REASON: pd.Series(pd.NA, index=ok.index, dtype="string")})
    report = validate(staged, suite)
    ok = P.add_reason(ok, report.row_reasons.notna(), report.row_reasons.fillna(""))
    unstorable = violations(staged, table).where(ok[REJECT_REASON].isna())
    ok = P.add_reason(ok, unstorable.notna(), unstorable.fillna(""))
    passed = ok[REJECT_REASON].isna().to_numpy()
    parts = [frame for frame in (*rejected, ok[~passed]) if len(frame)]
    out_rejected = pd.concat(parts, ignore_index=True) if parts else rejected[0]
    staged = staged[passed].reset_index(drop=True)
    staged["row_hash"] = row_hash(staged, tracked)
    result = StagedSource(source, rows_extracted, staged, pd.DataFrame({"municipality_id": pd.Series(dtype="string")}),
                          out_rejected, [report], collapsed)
    if not result.accounted:
        raise RuntimeError(f"{source}: staging lost rows ({rows_extracted} in, {len(staged)} staged, "
                           f"{len(out_rejected)} rejected, {collapsed} exact copies)")
    return result


def _evidence(facts: pd.DataFrame, theme_rules: pd.Series) -> pd.Series:
    """Per programme, JSON: each extracted fact with its span, rule and confidence; the theme rules."""
    out = []
    for i in facts.index:
        entry = {}
        for column in EXTRACTED:
            if pd.notna(facts.at[i, column]):
                entry[column] = {key: (None if pd.isna(facts.at[i, f"{column}_{key}"]) else facts.at[i, f"{column}_{key}"])
                                 for key in ("span", "rule", "confidence") if f"{column}_{key}" in facts}
        if pd.notna(theme_rules[i]):
            entry["themes"] = theme_rules[i].split(" | ")
        out.append(json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) if entry else None)
    return pd.Series(out, index=facts.index, dtype="string")


#: Columns of `funding_call_source` as staged (plus what the gate checks).
CALL_COLUMNS = ["source", "record_key", "call_key", *[c.name for c in W.funding_call_source.c
                                                      if c.name in CALL_TRACKED and c.name != "call_key"],
                "extracted_at", "status_consistent", "closes_after_opens"]


def call_status(stated: pd.Series, opens: pd.Series, closes: pd.Series, today: date) -> pd.Series:
    """The status on the run's day: the dates decide where they are stated (a topic the portal
    still calls forthcoming whose last deadline passed is closed); otherwise the source's word."""
    day = today.isoformat()
    opens, closes = opens.astype("string"), closes.astype("string")
    status = stated.astype("string")
    status = status.mask(opens.notna() & (opens > day), "forthcoming")
    status = status.mask(opens.notna() & (opens <= day) & closes.notna() & (closes >= day), "open")
    return status.mask(closes.notna() & (closes < day), "closed").astype("string")


def stage_calls(raw: pd.DataFrame, *, today: date | None = None) -> StagedSource:
    """One source's calls → `funding_call_source` rows: status on the run's day, themes by rule,
    the suite (dates in order, amounts ≥ 0, absolute URLs, status consistent with the dates)."""
    today = today or deadline_day()
    source, ok, rejected, collapsed = _prepared(raw)
    calls = ok.drop(columns=[REJECT_REASON]).assign(
        call_key=(ok["source"] + ":" + ok["record_key"]).astype("string"),
        status=call_status(ok["status"], ok["opens"], ok["closes"], today),
        themes=themes(ok)["themes"], funder_key=funder_keys(ok["funder"]))
    day = today.isoformat()
    calls["status_consistent"] = ~(((calls["status"] == "open") & (calls["closes"].astype("string") < day))
                                   | ((calls["status"] == "closed") & (calls["closes"].astype("string") >= day))
                                   ).fillna(False).astype(bool)
    calls["closes_after_opens"] = ~(calls["closes"].astype("string") < calls["opens"].astype("string")).fillna(False)
    return _gated(source, len(raw), ok, calls.reindex(columns=CALL_COLUMNS), "funding_call_source",
                  W.funding_call_source, CALL_TRACKED, rejected, collapsed)
