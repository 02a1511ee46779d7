"""Amounts and deadlines read from the free text of funding programmes, each with its evidence.

Pure. The Förderdatenbank states amounts and deadlines only in prose (summary, details,
legal_basis). Every value here comes with the exact substring it was read from (`*_span`), the
rule that read it (`*_rule`) and a confidence in [0, 1]: never a guess without its evidence.

* An amount needs a currency (EUR, Euro, €): a bare number (year, postcode, phone) is none. A cue
  next to it says what it is: a range (min and max), "bis zu"/"up to" (max), "mindestens"/"at
  least" (min); a cue-less amount counts (as max, low confidence) only after a funding noun. The
  nearest cue word in the sentence decides its subject: one of turnover or budget drops it. A
  min is never made from a max. Several values for one field: the strongest cue, then the
  first in the text, wins, and its confidence drops by AMBIGUOUS.
* A percentage counts only next to an own-funds word (Eigenanteil → own_contribution_pct) or a
  funding-rate word (Förderquote, share financing → funding_share_pct), whichever is nearer.
* A date counts only after a deadline cue (Frist, deadline, "bis zum" with an application word in
  its sentence); "vom 31.07.2024" of a Richtlinie does not. The deadline is the next date on or
  after `today` (a yearless date with "jährlich"/"jeden Jahres" is annual), else rolling, else
  ended ("endete am", or the latest stated date before `today`).

Each text is scanned with finditer (per string, as pandas' .str methods are too); candidates form
one long frame, and choosing per text is vectorised (sort, then first per text and field).
"""
from __future__ import annotations

import re
from bisect import bisect_left
from datetime import date

import pandas as pd

AMOUNT_FIELDS = ("amount_min_eur", "amount_max_eur", "funding_share_pct", "own_contribution_pct")
TEXT_COLUMNS = ("summary", "details", "legal_basis")
#: Factor on the confidence when a text gives several different values for one field.
AMBIGUOUS = 0.75

_W = r"[^\S\n]"  # whitespace within one line: a span never crosses a line (or a joined field)
_CUR = r"(?:\bEUR\b|\bEuro(?!\w)|€)"
_NUM = r"(?<![\d.,])(?:\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?!\d|[.,]\d)"
_SCALE = r"(?:Mio\b\.?|Millionen|Million|Mrd\b\.?|Milliarden|billion|Tsd\b\.?|M(?=[^\S\n]?€))"
_MONEY = rf"(?:{_CUR}{_W}?{_NUM}(?:{_W}?{_SCALE})?|{_NUM}(?:{_W}?{_SCALE})?{_W}?{_CUR})"
_LOW = rf"(?:{_CUR}{_W}?)?{_NUM}(?:{_W}?{_SCALE})?(?:{_W}?{_CUR})?"  # a range's low end: currency may follow the high
#: "zwischen 50.000 EUR und dem Höchstbetrag von 1,25 Mio. EUR", "50,000–250,000 €", "bis zu EUR 140.000",
#: "at least 100,000 € EU contribution", "(≤5,000 €)", "140.000 Euro"
_AMOUNT_RE = re.compile(
    r"(?=[\d€≤≥]|\b[zbvfhmuanwe])"  # only where a match can start: 5x faster
    rf"(?:(?P<range>(?:zwischen|between){_W}+{_LOW}{_W}+(?:und|and)(?:{_W}+dem{_W}+Höchstbetrag{_W}+von)?{_W}+{_MONEY}"
    rf"|(?:(?:von|from){_W}+)?{_LOW}{_W}*(?:–|—|-|bis|to){_W}*{_MONEY})"
    rf"|(?P<max>(?:bis{_W}+zu(?:{_W}+einer{_W}+Höhe{_W}+von|{_W}+einem{_W}+Betrag{_W}+von)?|höchstens|maximal|max\."
    rf"|Höchstbetrag{_W}+von|up{_W}+to|(?:a{_W}+)?maximum{_W}+of|at{_W}+most|not{_W}+exceeding|bis){_W}+{_MONEY}"
    rf"|≤{_W}*{_MONEY})"
    rf"|(?P<min>(?:mindestens|wenigstens|at{_W}+least|(?:a{_W}+)?minimum{_W}+of|not{_W}+less{_W}+than|ab){_W}+{_MONEY}"
    rf"|≥{_W}*{_MONEY})"
    rf"|{_MONEY})", re.I)
#: One number with its scale inside an amount span: "140.000", "1,25 Mio.", "100 000", "5 million".
_VALUE_RE = re.compile(rf"(?P<num>{_NUM})(?:{_W}?(?P<scale>{_SCALE}))?", re.I)
#: "mindestens 10 %", "bis zu 90 %", "50 Prozent", "<< 25%".
_PERCENT_RE = re.compile(
    rf"(?:(?:bis{_W}+zu|höchstens|maximal|mindestens|wenigstens|at{_W}+least|up{_W}+to|max\.){_W}+)?"
    rf"(?<![\d.,])(?P<num>\d{{1,3}}(?:[.,]\d{{1,2}})?){_W}?(?:%|Prozent\b|per{_W}?cent\b)", re.I)
#: Words that say whose money an amount is: "Jahresumsatz von bis zu EUR 50 Millionen" (not funding) vs
#: "die Förderung als stille Beteiligung bis zu EUR 140.000" (funding). Non-funding words are tried first.
_AMOUNT_SUBJECT_RE = re.compile(
    r"\b(?:(?P<other>\w*umsatz\w*|\w*bilanzsumme\w*|turnover|balance\s+sheet|(?:Gesamt|Jahres|Programm)?budget\w*"
    r"|\w*volumen\w*|insgesamt|in\s+total|total|Stammkapital\w*|Grundkapital\w*|Eigenkapital\w*)"
    r"|(?P<funding>Förder\w*|\w*förderung\w*|gefördert|\w*zuschu\w+|Zuwendung\w*|\w*beteiligung\w*|Darlehen\w*"
    r"|\w*kredit\w*|Bürgschaft\w*|Prämie\w*|Pauschale\w*|\w*betr(?:ag|äge)[sn]?|grants?|\w*contribution\w*|funding"
    r"|lump\s+sum))\b",
    re.I)
#: "(in Ausnahmefällen bis 2,5 Mio. EUR)", "historically up to 500,000 € in exceptional cases".
_EXCEPTION_RE = re.compile(r"Ausnahme\w*|ausnahmsweise|exceptional|historically|früher", re.I)
#: "Eigenanteil … mindestens 10 %", "10 % own or third-party funds" (own) vs "Förderquote … 50 Prozent",
#: "90 % share financing" (share).
_PERCENT_SUBJECT_RE = re.compile(
    r"\b(?:(?P<own>Eigenanteil\w*|Eigenmittel\w*|Eigenbeteiligung\w*|Eigenleistung\w*|Eigen-\s+oder\s+Drittmittel\w*"
    r"|own\s+(?:or\s+third-party\s+)?(?:funds|contribution|resources)|co-?financing\s+by)"
    r"|(?P<share>Förderquote\w*|Fördersatz\w*|Förderanteil\w*|Förderhöhe|\w*zuschu\w+|Zuwendung(?:en)?"
    r"|Anteils?finanzierung\w*|share\s+financing|funding\s+rate|co-?financing\s+rate|Förderung|EU\s+contribution))\b",
    re.I)
#: Sentence ends: a line break, or .!?; before a space, not after a digit ("31. März") or an abbreviation ("Mio. EUR").
_SENTENCE_END_RE = re.compile(r"\n|[.!?;](?=\s)(?<!\d.)" + "".join(rf"(?<!\b{a}.)" for a in (
    "Mio", "Mrd", "Tsd", "bzw", "ca", "max", "Nr", "Anm", "Abs", "inkl", "ggf", r"z\.B", r"e\.g", r"p\.a")))

_MONTHS_DE = "Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
_MONTHS_EN = ("January|February|March|April|May|June|July|August|September|October|November|December"
              "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec")
_MONTH = {"jan": 1, "jän": 1, "feb": 2, "mär": 3, "mar": 3, "apr": 4, "mai": 5, "may": 5, "jun": 6, "jul": 7,
          "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "dez": 12, "dec": 12}
#: "28.11.2024", "30.09." (yearless), "31. März", "28. November 2024", "26 Aug 2021 17:00", "2026-04-16".
_DATE_RE = re.compile(
    r"(?=\d|\b[jfmasond])(?<![\d.])(?:(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    rf"|(?P<nd>\d{{1,2}})\.{_W}?(?P<nm>\d{{1,2}})\.(?:{_W}?(?P<ny>\d{{4}}))?"
    rf"|(?P<gd>\d{{1,2}})\.{_W}?(?P<gm>{_MONTHS_DE})(?:{_W}+(?P<gy>\d{{4}}))?"
    rf"|(?P<ed>\d{{1,2}})(?:st|nd|rd|th)?{_W}+(?P<em>{_MONTHS_EN})\.?,?{_W}+(?P<ey>\d{{4}})"
    rf"|(?P<fm>{_MONTHS_EN})\.?{_W}+(?P<fd>\d{{1,2}}),?{_W}+(?P<fy>\d{{4}}))"
    rf"(?!\d)(?:,?{_W}+(?:um{_W}+)?\d{{1,2}}[:.]\d{{2}}(?:{_W}*Uhr)?(?!\d))?", re.I)
#: The cue before a date: "endete am 28.11.2024" (ended), "deadline 16.04.2026" (strong), "bis zum 31. März"
#: (weak: needs an application word in the sentence), "vom: 31.07.2024" / "opened 17.12.2025" (not a deadline).
_DATE_CUE_RE = re.compile(
    r"\b(?:(?P<ended>endete(?:\s+am)?|ended(?:\s+on)?|closed(?:\s+on)?)"
    r"|(?P<strong>\w*frist(?:en)?|Stichtag\w*|Antragsschluss|Bewerbungsschluss|Einsendeschluss|Einreichungsschluss"
    r"|Abgabetermin|einzureichen|deadline|closes(?:\s+on)?|closing\s+date)"
    r"|(?P<weak>(?:spätestens\s+)?bis(?:\s+spätestens)?(?:\s+zum|\s+am)?|spätestens(?:\s+am|\s+zum)?|endet(?:\s+am)?"
    r"|(?:jährlich|jeweils)\s+(?:zum|am)|until|by)"
    r"|(?P<other>vom|von|seit|ab|opened|opens|opening|published|veröffentlicht|aktualisiert|Inkrafttreten"
    r"|in\s+Kraft|\w*beginn|beginnt|\w*laufzeit|gilt|gültig|start\w*))\b", re.I)
#: A sentence about applying: "Anträge … einzureichen", "Förderantrag", "Antragstellung", "Projektskizzen".
_APPLICATION_RE = re.compile(r"antr[aä]g|einzureichen|einreich|eingereicht|bewerb|skizze|interessenbekundung"
                             r"|apply|applica|proposal|submi", re.I)
#: "jeweils bis zum 31. März … eines jeden Jahres", "bis zum 30.09. jeden Jahres", "jährlich zum 15. März".
_ANNUAL_RE = re.compile(r"\b(?:jährlich|alljährlich|jed(?:en|es)\s+Jahres|jeweils|each\s+year|every\s+year|annually)\b",
                        re.I)
#: After a date: "ist am 28.11.2024 abgelaufen".
_ENDED_AFTER_RE = re.compile(r"(?:\s+\w+){0,2}?\s+(?:abgelaufen|ausgelaufen|verstrichen|geendet|beendet|expired)\b",
                             re.I)
#: "Die Antragsfrist ist abgelaufen", "the call has closed".
_ENDED_RE = re.compile(r"\b(?:\w*frist|\w*aufruf|\w*programm|Antragstellung|call|deadline)\b[^.\n]{0,40}?"
                       r"\b(?:ist|sind|wurde|has|is)\s+(?:bereits\s+|already\s+|now\s+)?"
                       r"(?:abgelaufen|ausgelaufen|beendet|geschlossen|closed|expired)\b", re.I)
#: "ohne Frist", "keine Antragsfrist", "rolling" (alone) vs "Anträge können jederzeit gestellt werden" (adverb: needs an
#: application word in its sentence, so "im laufenden Kalenderjahr" or "laufende Garantieprovision" are not).
_ROLLING_RE = re.compile(
    r"\b(?:(?P<alone>(?:ohne|keine)\s+(?:Antrags|Einreichungs)?frist|Stichtag\s+entfällt|rolling|no\s+(?:fixed\s+)?"
    r"deadline)|(?P<adverb>jederzeit|laufend|fortlaufend|ganzjährig|continuously|at\s+any\s+time))\b", re.I)

#: Percentage subject → (field, rule).
PERCENT_FIELDS = {"own": ("own_contribution_pct", "own_funds"), "share": ("funding_share_pct", "funding_rate")}
#: Confidence of each rule (amount rules: +0.1 with a funding noun beside, -0.3 for an exception).
CONFIDENCE = {"range": 0.8, "up_to": 0.8, "at_least": 0.8, "amount": 0.4, "own_funds": 0.9, "funding_rate": 0.9,
              "deadline_cue": 0.9, "bis_zum": 0.8, "annual": 0.85, "yearless": 0.6, "ended_cue": 0.9,
              "date_passed": 0.8, "ended_no_date": 0.8, "rolling": 0.8}


def extract_amounts(texts: pd.Series) -> pd.DataFrame:
    """Per text: amount_min_eur, amount_max_eur, funding_share_pct, own_contribution_pct, each with _span,
    _confidence and _rule; indexed like `texts`."""
    found = [c for n, text in enumerate(texts.astype("string")) if not pd.isna(text) for c in _amounts(n, text)]
    cands = pd.DataFrame(found, columns=["row", "field", "value", "span", "confidence", "rule", "pos"]).astype(
        {"row": int, "field": object, "value": float, "span": object, "confidence": float, "rule": str, "pos": int})
    cands = cands.sort_values(["row", "field", "confidence", "pos"], ascending=[True, True, False, True])
    plain = ~cands["rule"].str.endswith("/exception")  # a stated exception is no rival reading
    rivals = cands["value"].where(plain).groupby([cands["row"], cands["field"]]).transform("nunique")
    cands["confidence"] = cands["confidence"].where(rivals <= 1, cands["confidence"] * AMBIGUOUS).round(3)
    best = cands.drop_duplicates(["row", "field"])
    out = {}
    for field in AMOUNT_FIELDS:
        spec = {field: ("value", "Float64"), f"{field}_span": ("span", "string"),
                f"{field}_confidence": ("confidence", "Float64"), f"{field}_rule": ("rule", "string")}
        out.update(_columns(len(texts), best[best["field"] == field], spec))
    return pd.DataFrame(out).set_axis(texts.index)


def extract_deadlines(texts: pd.Series, today: date) -> pd.DataFrame:
    """Per text: deadline (ISO date), deadline_kind (date | annual | rolling | ended), deadline_span,
    deadline_confidence, deadline_rule; indexed like `texts`."""
    found = [c for n, text in enumerate(texts.astype("string")) if not pd.isna(text)
             for c in _deadlines(n, text, today)]
    cands = pd.DataFrame(found, columns=["row", "when", "kind", "span", "confidence", "rule", "pos"]).astype(
        {"row": int, "confidence": float, "pos": int})
    ordinal = cands["when"].map(lambda d: d.toordinal() if d else float("nan")).astype(float)
    cands["group"] = cands["kind"].map({"date": 0, "annual": 0, "rolling": 1, "ended": 2})
    # upcoming: the soonest; rolling: the first; ended: the latest (undated last)
    cands["key"] = ordinal.where(cands["group"] == 0, (-ordinal).where(cands["group"] == 2, cands["pos"]))
    cands.loc[(cands["group"] == 2) & cands["when"].isna(), "key"] = float("inf")
    cands = cands.sort_values(["row", "group", "key", "confidence", "pos"], ascending=[True, True, True, False, True])
    best = cands.drop_duplicates("row").assign(iso=lambda f: f["when"].map(lambda d: d.isoformat() if d else None))
    return pd.DataFrame(_columns(len(texts), best, {
        "deadline": ("iso", "string"), "deadline_kind": ("kind", "string"), "deadline_span": ("span", "string"),
        "deadline_confidence": ("confidence", "Float64"), "deadline_rule": ("rule", "string")})).set_axis(texts.index)


#: A programme's or project's duration, only after a duration word ("Projektlaufzeit", "Förderdauer",
#: "duration", "Laufzeit" — not of a loan): "bis zu 36 Monate", "12 bis 24 Monate", "up to 36 months",
#: "2 Jahre".
_DURATION_RE = re.compile(
    r"(?P<cue>Projektlaufzeit|Projektdauer|Förderdauer|Förderzeitraum|Förderungsdauer|Laufzeit|duration|"
    r"Phasen? von|phases?)[^.\n]{0,40}?(?:(?P<low>\d{1,3})\s*(?:bis|–|-|to)\s*)?(?P<n>\d{1,3})[^\S\n]*"
    r"(?P<unit>Monat(?:e|en)?|months?|Jahr(?:e|en)?|years?)\b", re.I)
#: A financing instrument whose "Laufzeit" is its term, not a project's duration.
_TERM_RE = re.compile(r"Darlehen|Kredit|loan|Beteiligung|Bürgschaft|Garantie|guarantee|equity", re.I)


def extract_durations(texts: pd.Series) -> pd.DataFrame:
    """Per text: duration_months (the longest a duration word introduces) with _span, _confidence
    (0.8; 0.6 where several durations rival) and _rule ('duration_cue'); the term of a loan, an
    equity stake or a guarantee ("Stille Beteiligungen … Laufzeit von bis zu 10 Jahre") is not one."""
    rows = []
    for text in texts.astype("string"):
        found = []
        if not pd.isna(text):
            for m in _DURATION_RE.finditer(text):
                # a bare "Laufzeit" in a text about loans, stakes or guarantees is their term
                if m.group("cue").lower() == "laufzeit" and _TERM_RE.search(text):
                    continue
                months = int(m.group("n")) * (12 if m.group("unit").lower().startswith(("jahr", "year")) else 1)
                found.append((months, m.group(0)))
        if found:
            months, span = max(found)
            rows.append((months, span, 0.8 if len({f[0] for f in found}) == 1 else 0.6, "duration_cue"))
        else:
            rows.append((None, None, None, None))
    out = pd.DataFrame(rows, columns=["duration_months", "duration_months_span", "duration_months_confidence",
                                      "duration_months_rule"], index=texts.index)
    return out.astype({"duration_months": "Int64", "duration_months_span": "string",
                       "duration_months_confidence": "Float64", "duration_months_rule": "string"})


def funding_facts(frame: pd.DataFrame, today: date) -> pd.DataFrame:
    """Amounts and deadline of FUNDING_PROGRAMME records, read from summary + details + legal_basis (joined by
    line breaks); a value the record states as a field wins (rule "stated", confidence 1, no span)."""
    parts = frame.reindex(columns=list(TEXT_COLUMNS)).astype("string").reset_index(drop=True)
    text = parts["summary"].str.cat([parts["details"], parts["legal_basis"]], sep="\n", na_rep="").str.strip()
    text = text.mask(text == "").set_axis(frame.index)
    out = pd.concat([extract_amounts(text), extract_deadlines(text, today), extract_durations(text)], axis=1)
    for field in (*AMOUNT_FIELDS, "duration_months"):
        if field in frame.columns:
            stated = frame[field].astype("Float64").notna().to_numpy(dtype=bool)
            out.loc[stated, field] = frame[field].astype(out[field].dtype).to_numpy()[stated]
            out.loc[stated, f"{field}_span"] = pd.NA
            out.loc[stated, f"{field}_confidence"] = 1.0
            out.loc[stated, f"{field}_rule"] = "stated"
    return out


def _columns(n: int, best: pd.DataFrame, spec: dict[str, tuple[str, str]]) -> dict[str, pd.Series]:
    """Output columns of length n: `best[attr]` at positions `best.row`, NA elsewhere."""
    out = {}
    for column, (attr, dtype) in spec.items():
        values = pd.Series(pd.NA, index=range(n), dtype=dtype)
        values.iloc[best["row"].to_numpy(dtype=int)] = pd.array(best[attr].tolist(), dtype=dtype)
        out[column] = values
    return out


def _amounts(n: int, text: str):
    ends = [m.start() for m in _SENTENCE_END_RE.finditer(text)]
    for m in _AMOUNT_RE.finditer(text):
        s0, s1 = _sentence(ends, m.start(), m.end(), len(text))
        cue = "range" if m["range"] else "up_to" if m["max"] else "at_least" if m["min"] else "amount"
        subject, _ = _nearest(_AMOUNT_SUBJECT_RE, text, m.start(), m.end(), s0, s1,
                              reach=(120, 0 if cue == "amount" else 60))  # a bare amount: only what precedes it
        if subject == "other" or (cue == "amount" and subject != "funding"):
            continue
        parts = list(_VALUE_RE.finditer(m[0]))
        values = [_number(v["num"]) * _scale(v["scale"]) for v in parts]
        if cue == "range" and parts[0]["scale"] is None and values[0] < 1000:
            values[0] *= _scale(parts[-1]["scale"])  # "1,5 bis 2 Mio. Euro"
        after = text[m.end():min(s1, m.end() + 30)].split("(")[0].split(";")[0]  # up to a bracket or clause
        exception = bool(_EXCEPTION_RE.search(text[max(s0, m.start() - 40):m.start()] + " " + after))
        score = CONFIDENCE[cue] + (0.1 if subject == "funding" else 0) - (0.3 if exception else 0)
        if cue == "range" and values[0] >= values[1]:  # "-" between two unrelated numbers
            continue
        for field in {"range": ("min", "max"), "up_to": ("max",), "amount": ("max",), "at_least": ("min",)}[cue]:
            value = values[0] if field == "min" else values[-1]
            yield n, f"amount_{field}_eur", value, m[0], score, cue + ("/exception" if exception else ""), m.start()
    for m in _PERCENT_RE.finditer(text):
        s0, s1 = _sentence(ends, m.start(), m.end(), len(text))
        subject, gap = _nearest(_PERCENT_SUBJECT_RE, text, m.start(), m.end(), s0, s1, reach=(80, 80))
        value = _number(m["num"])
        if subject and value <= 100:
            field, rule = PERCENT_FIELDS[subject]
            yield n, field, value, m[0], CONFIDENCE[rule] - (0.2 if gap > 30 else 0), rule, m.start()


def _deadlines(n: int, text: str, today: date):
    ends = [m.start() for m in _SENTENCE_END_RE.finditer(text)]
    for m in _DATE_RE.finditer(text):
        s0, s1 = _sentence(ends, m.start(), m.end(), len(text))
        cue = max((c for c in _DATE_CUE_RE.finditer(text, max(s0, m.start() - 60), m.start())
                   if c.lastgroup != "other" or m.start() - c.end() <= 15),  # "von" blocks only right before
                  key=lambda c: c.end(), default=None)
        sentence = text[s0:s1]
        if cue is None or cue.lastgroup == "other" or cue.lastgroup == "weak" and not _APPLICATION_RE.search(sentence):
            continue
        after = _ENDED_AFTER_RE.match(text, m.end(), s1)
        ended = cue.lastgroup == "ended" or after is not None
        day, month, year = _date_parts(m)
        span, pos = text[cue.start():after.end() if after else m.end()], cue.start()
        try:
            if year is None and not ended:
                when = next(d for y in range(today.year, today.year + 9) if (d := _date(y, month, day)) and d >= today)
                rule = "annual" if _ANNUAL_RE.search(sentence) else "yearless"
                yield n, when, "annual" if rule == "annual" else "date", span, CONFIDENCE[rule], rule, pos
            elif year is not None:
                when = date(year, month, day)
                rule = ("ended_cue" if ended else "date_passed" if when < today
                        else "deadline_cue" if cue.lastgroup == "strong" else "bis_zum")
                yield n, when, "ended" if ended or when < today else "date", span, CONFIDENCE[rule], rule, pos
        except (ValueError, StopIteration):  # "31.09.", "30. Februar 2025"
            continue
    for m in _ENDED_RE.finditer(text):
        yield n, None, "ended", m[0], CONFIDENCE["ended_no_date"], "ended_no_date", m.start()
    for m in _ROLLING_RE.finditer(text):
        s0, s1 = _sentence(ends, m.start(), m.end(), len(text))
        if m["alone"] or _APPLICATION_RE.search(text[s0:s1]):
            span = m[0] if m["alone"] else text[s0:s1].strip(" .;!?")
            yield n, None, "rolling", span, CONFIDENCE["rolling"], "rolling", m.start()


def _sentence(ends: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    i, j = bisect_left(ends, start), bisect_left(ends, end)
    return (ends[i - 1] + 1 if i else 0), (ends[j] if j < len(ends) else length)


def _nearest(regex: re.Pattern, text: str, start: int, end: int, s0: int, s1: int,
             reach: tuple[int, int]) -> tuple[str | None, int]:
    """The class (named group) of the `regex` match nearest to text[start:end] within its sentence, and the gap."""
    best: tuple[str | None, int] = (None, 10**9)
    for c in regex.finditer(text, max(s0, start - reach[0]), min(s1, end + reach[1])):
        gap = start - c.end() if c.end() <= start else c.start() - end if c.start() >= end else None
        if gap is not None and gap < best[1]:
            best = (c.lastgroup, gap)
    return best


def _number(token: str) -> float:
    """German and English number forms: "140.000", "1,25", "100,000", "1.5", "100 000", "1.250.000,50"."""
    token = "".join(token.split())
    seps = [c for c in token if c in ".,"]
    if not seps:
        return float(token)
    last = token.rfind(seps[-1])
    if len(set(seps)) == 2 or len(token) - last - 1 != 3:  # the last separator is a decimal one
        return float(_digits(token[:last]) + "." + token[last + 1:])
    return float(_digits(token))


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())


def _scale(word: str | None) -> float:
    word = (word or "").lower()
    return (1e9 if word.startswith(("mrd", "milliard", "billion")) else 1e6 if word.startswith(("mio", "million", "m"))
            else 1e3 if word.startswith("tsd") else 1.0)


def _date_parts(m: re.Match) -> tuple[int, int, int | None]:
    if m["iy"]:
        return int(m["id"]), int(m["im"]), int(m["iy"])
    if m["nd"]:
        return int(m["nd"]), int(m["nm"]), int(m["ny"]) if m["ny"] else None
    day, month, year = (m["gd"], m["gm"], m["gy"]) if m["gd"] else (m["ed"], m["em"], m["ey"]) if m["ed"] else (
        m["fd"], m["fm"], m["fy"])
    return int(day), _MONTH[month.lower()[:3]], int(year) if year else None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February of a common year, 31.09.
        return None
