"""Amounts and deadlines from funding programmes' free text (transforms/funding_text.py).

Real text only, unless a comment says otherwise: the four recorded Förderdatenbank detail pages
(tests/fixtures/foerderdatenbank, see PROVENANCE.md) parsed by the real extractor, and sentences
quoted verbatim from /work/shared/docs/sources.md §1 and §3 (SKEW, NRW and EU CERV facts).
"""
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from extractors import foerderdatenbank as fdb
from schemas.records import FUNDING_PROGRAMME
from transforms.funding_text import AMOUNT_FIELDS, extract_amounts, extract_deadlines, funding_facts

FIXTURES = Path(__file__).parent / "fixtures" / "foerderdatenbank"
PROGRAMMES = "https://www.foerderdatenbank.de/FDB/Content/DE/Foerderprogramm"
PAGES = {  # file → detail URL (as in test_foerderdatenbank.py)
    "detail_multi_desc.html": PROGRAMMES + "/Land/Thueringen/beteiligungen-thueringen-mbg-express.html",
    "detail_rechts_only.html": PROGRAMMES + "/Land/Thueringen/schulbezogene-jahresprogramme-bne.html",
    "detail_single_desc.html": PROGRAMMES + "/Bund/BMWi/exist-women-2024.html",
    "details_single_desc_alt.html": PROGRAMMES + "/Bund/BMBF/foerderung-forschende-fachaerztinnen-unimedizin.html",
}
MBG, BNE, EXIST, ALT = PAGES
NEW_YEAR = date(2026, 1, 1)


def records() -> list[dict]:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [fdb.parse_detail((FIXTURES / name).read_bytes(), url=url, extracted_at=when) for name, url in PAGES.items()]


def facts(today: date) -> pd.DataFrame:
    frame = FUNDING_PROGRAMME.to_frame(records())
    return funding_facts(frame, today).set_axis(list(PAGES))


def found(row: pd.Series) -> dict:
    """The extracted values of one row, without confidence and rule."""
    return {k: v for k, v in row.items() if not pd.isna(v) and not k.endswith(("_confidence", "_rule"))}


def one(text: str, today: date = NEW_YEAR) -> dict:
    texts = pd.Series([text])
    amounts, deadlines = extract_amounts(texts).iloc[0], extract_deadlines(texts, today).iloc[0]
    return {**amounts.dropna().to_dict(), **deadlines.dropna().to_dict()}


def page_text(n: int) -> str:
    record = records()[n]
    return "\n".join(record[c] for c in ("summary", "details", "legal_basis") if record[c])


# --- the four real detail pages ----------------------------------------------------------------

def test_mbg_express_page_gives_its_amounts_with_their_spans():
    row = facts(NEW_YEAR).loc[MBG]
    assert found(row) == {
        # summary: "Sie erhalten die Förderung als stille Beteiligung bis zu EUR 140.000."
        "amount_max_eur": 140_000.0, "amount_max_eur_span": "bis zu EUR 140.000",
        # legal_basis: "Stille Beteiligungen … mit Beträgen zwischen 50.000 EUR und dem Höchstbetrag von
        # 1,25 Mio. EUR …"
        "amount_min_eur": 50_000.0,
        "amount_min_eur_span": "zwischen 50.000 EUR und dem Höchstbetrag von 1,25 Mio. EUR",
    }
    assert row["amount_max_eur_rule"] == "up_to" and row["amount_min_eur_rule"] == "range"
    assert row["amount_min_eur_confidence"] == 0.9
    # the page also says 1,25 Mio. EUR (range) and 300.000 EUR (offene Beteiligungen) for a max: the first
    # of the strongest cues wins, at lower confidence; turnover limits (EUR 50 Millionen, 75 Mio. EUR) do not count
    assert row["amount_max_eur_confidence"] == pytest.approx(0.675)


def test_bne_page_gives_the_next_of_its_two_annual_closing_dates():
    text = "Anträge auf Förderung nach dieser Richtlinie sind jeweils bis zum 31. März (für einen Projektbeginn"
    assert text in records()[1]["legal_basis"]
    assert found(facts(NEW_YEAR).loc[BNE]) == {"deadline": "2026-03-31", "deadline_kind": "annual",
                                                "deadline_span": "bis zum 31. März"}
    row = facts(date(2026, 4, 1)).loc[BNE]
    assert found(row) == {"deadline": "2026-09-30", "deadline_kind": "annual", "deadline_span": "bis zum 30. September"}
    assert (row["deadline_rule"], row["deadline_confidence"]) == ("annual", 0.85)


def test_richtlinie_date_is_not_a_deadline():
    # BNE: "vom: 31.07.2024" would be the soonest date after 1 July 2024; the deadline is 30 September
    assert facts(date(2024, 7, 1)).loc[BNE, "deadline"] == "2024-09-30"
    assert found(extract_deadlines(pd.Series(["Richtlinie zur Förderung von Bildung für nachhaltige Entwicklung "
                                              "(BNE) in Thüringen im non-formalen und informellen Bildungsbereich\n"
                                              "vom: 31.07.2024"]), date(2024, 7, 1)).iloc[0]) == {}
    # EXIST-Women: "… (EXIST-Women) … vom 04.11.2024" is sooner than the real 06.12.2024
    assert found(facts(date(2024, 11, 1)).loc[EXIST]) == {"deadline": "2024-12-06", "deadline_kind": "date",
                                                           "deadline_span": "bis zum 06.12.2024"}


def test_exist_women_page_gives_its_yearly_date_once_the_2024_one_passed():
    # "… einen Förderantrag bis 2027 und dabei spätestens bis zum 30.09. jeden Jahres stellen."
    row = facts(NEW_YEAR).loc[EXIST]
    assert found(row) == {"deadline": "2026-09-30", "deadline_kind": "annual",
                          "deadline_span": "spätestens bis zum 30.09."}
    assert facts(date(2024, 11, 1)).loc[EXIST, "deadline_rule"] == "bis_zum"


def test_alt_page_gives_an_ended_deadline():
    # "Die Frist zur Einreichung von Projektskizzen endete am 28.11.2024"; the Richtlinie is "vom 20.08.2024"
    for today in (date(2024, 8, 1), NEW_YEAR):
        row = facts(today).loc[ALT]
        assert found(row) == {"deadline": "2024-11-28", "deadline_kind": "ended",
                              "deadline_span": "endete am 28.11.2024"}
        assert (row["deadline_rule"], row["deadline_confidence"]) == ("ended_cue", 0.9)


def test_pages_without_amounts_or_deadlines_stay_empty():
    table = facts(NEW_YEAR)
    assert table.loc[[BNE, EXIST, ALT], list(AMOUNT_FIELDS)].isna().all().all()  # "ThürStAnz 2024, 1281", "bis 2027"
    assert pd.isna(table.loc[MBG, "deadline"]) and pd.isna(table.loc[MBG, "deadline_kind"])
    assert table[["funding_share_pct", "own_contribution_pct"]].isna().all().all()  # "<< 25% am gezeichneten Kapital"


def test_every_span_is_a_substring_of_the_page_text():
    table = facts(date(2024, 7, 1))
    for n, (key, row) in enumerate(table.iterrows()):
        text = page_text(n)
        spans = [v for k, v in row.items() if k.endswith("_span") and not pd.isna(v)]
        assert spans and all(span in text for span in spans), key


def test_contact_blocks_postcodes_and_phone_numbers_are_no_amounts():
    contacts = pd.Series([record["contact"] for record in records()])  # "99084 Erfurt\nTel: 0361 21350" …
    assert "Tel: +49 228 3821 2442" in contacts[3]
    assert extract_amounts(contacts).isna().all().all()
    assert extract_deadlines(contacts, NEW_YEAR).isna().all().all()


# --- single real sentences of the MBG page ---------------------------------------------------------

@pytest.mark.parametrize("sentence", [
    "Antragsberechtigt sind mittelständische Unternehmen aller Branchen außer der Landwirtschaft mit einem "
    "Jahresumsatz von bis zu EUR 50 Millionen und weniger als 500 Beschäftigten.",
    "mit Sitz oder Betriebsstätte in Thüringen, weniger als 500 Mitarbeitern und einem Jahresumsatz (einschließlich "
    "verbundener Unternehmen), der in der Regel 50 Mio. EUR p.a. nicht übersteigt.",
    "Offene Minderheitsbeteiligungen << 25% am gezeichneten Kapital",
    "Die Laufzeit beträgt 10 Jahre.",
    "ThürStAnz 2024, 1281",
    "Die Bürgschaftsbank Thüringen GmbH übernimmt eine Ausfallgarantie gegenüber der MBG Thüringen. Dafür ist eine "
    "einmalige Bearbeitungsgebühr und eine laufende Garantieprovision zu entrichten.",
])
def test_turnover_years_durations_and_unrelated_percentages_give_nothing(sentence):
    assert any(sentence in page_text(n) for n in range(4))  # quoted verbatim from the pages
    assert one(sentence) == {}


def test_range_with_an_exception_in_brackets():
    sentence = ("Stille Beteiligungen zur Gründung oder Festigung von Unternehmen mit Beträgen zwischen 50.000 EUR "
                "und dem Höchstbetrag von 1,25 Mio. EUR (in Ausnahmefällen bis 2,5 Mio. EUR) und einer Laufzeit von "
                "bis zu 10 Jahre.")
    assert sentence in page_text(0)
    got = one(sentence)
    assert (got["amount_min_eur"], got["amount_max_eur"]) == (50_000.0, 1_250_000.0)
    assert got["amount_max_eur_span"] == "zwischen 50.000 EUR und dem Höchstbetrag von 1,25 Mio. EUR"
    assert got["amount_max_eur_confidence"] == 0.9  # the exception is no rival reading


def test_up_to_a_height_of():
    assert "Offene Beteiligungen bis zu einer Höhe von 300.000 EUR pro Unternehmen." in page_text(0)
    got = one("Offene Beteiligungen bis zu einer Höhe von 300.000 EUR pro Unternehmen.")
    assert (got["amount_max_eur"], got["amount_max_eur_span"]) == (300_000.0, "bis zu einer Höhe von 300.000 EUR")
    assert "amount_min_eur" not in got  # never a min from a max


# --- real sentences of sources.md ------------------------------------------------------------------

def test_skew_nakopa_amount_cell():
    got = one("50,000–250,000 € (Bekanntmachung 2023/24); historically up to 500,000 € in exceptional cases; "
              "total about 3 M € per call (2021)")
    assert {k: got[k] for k in ("amount_min_eur", "amount_max_eur", "amount_max_eur_span", "amount_max_eur_rule")} == {
        "amount_min_eur": 50_000.0, "amount_max_eur": 250_000.0, "amount_max_eur_span": "50,000–250,000 €",
        "amount_max_eur_rule": "range"}


def test_skew_nakopa_co_funding_cell():
    got = one("at least 10 % own or third-party funds (up to 90 % share financing)")
    assert got == {"own_contribution_pct": 10.0, "own_contribution_pct_span": "at least 10 %",
                   "own_contribution_pct_confidence": 0.9, "own_contribution_pct_rule": "own_funds",
                   "funding_share_pct": 90.0, "funding_share_pct_span": "up to 90 %",
                   "funding_share_pct_confidence": 0.9, "funding_share_pct_rule": "funding_rate"}


@pytest.mark.parametrize("sentence, expected", [
    ("up to 36 months", {}),
    ("up to 300,000 € per municipality (2018); annual budget 1.35 M € (2018)",
     {"amount_max_eur": 300_000.0, "amount_max_eur_span": "up to 300,000 €"}),
    ('the Staatskanzlei competition "Europa bei uns zuhause" (cost reimbursement of up to 5,000 € per '
     "Städtepartnerschaftsprojekt), Europawoche funding (up to 2,000 €), and § 96 BVFG funding (kfi.nrw.de page).",
     {"amount_max_eur": 5_000.0, "amount_max_eur_span": "up to 5,000 €"}),
    ("CERV-2026-CITIZENS-TOWN-NT (opened 17.12.2025, deadline 16.04.2026 17:00, 12 M €, at least 100,000 € EU "
     'contribution per project; status "Open (31094502)").',
     {"amount_min_eur": 100_000.0, "amount_min_eur_span": "at least 100,000 €",
      "deadline": "2026-04-16", "deadline_kind": "date", "deadline_span": "deadline 16.04.2026 17:00"}),
    ("CERV-2025-CITIZENS-TOWN-NT (opened 17.12.2024, deadline 27.03.2025, 10 M €);",
     {"deadline": "2025-03-27", "deadline_kind": "ended", "deadline_span": "deadline 27.03.2025"}),
    ("CERV-2021-CITIZENS-TOWN-TT (call CERV-2021-CITIZENS-TOWN; deadline 26 Aug 2021 17:00 Brussels; 119 proposals, "
     "106 eligible);",
     {"deadline": "2021-08-26", "deadline_kind": "ended", "deadline_span": "deadline 26 Aug 2021 17:00"}),
    ("rolling", {"deadline_kind": "rolling", "deadline_span": "rolling"}),
    # a table cell without a deadline cue: its dates are examples, and nothing says they close anything
    ("two stages: Interessenbekundung/Projektskizze (e.g. 31.07.2023), then Antrag (e.g. 30.09.2023); the 2017 round "
     "ran 27.01.2017 / 21.04.2017", {}),
])
def test_sources_md_sentences(sentence, expected):
    assert found(pd.Series(one(sentence))) == expected


def test_call_budgets_are_no_project_amounts():
    assert one("CERV-2025-CITIZENS-TOWN-TT (budget 5 M €; deadline 16 or 17 Sept 2025; mirrors disagree);",
               date(2025, 1, 1))["deadline"] == "2025-09-17"  # the later day; "16 or" is not read (see report)
    assert not set(one("CERV-2025-CITIZENS-TOWN-TT (budget 5 M €; deadline 16 or 17 Sept 2025)")) & set(AMOUNT_FIELDS)


# --- number and date forms -------------------------------------------------------------------------
# Written for these tests: each puts one number form of the brief (or of a real page, as marked) into the
# phrasing of the real pages ("Sie erhalten die Förderung …", "Der Zuschuss beträgt …").

@pytest.mark.parametrize("sentence, field, value, span", [
    ("Sie erhalten die Förderung als Zuschuss bis zu 1,5 Mio. EUR.", "amount_max_eur", 1_500_000.0,
     "bis zu 1,5 Mio. EUR"),
    ("Der Zuschuss beträgt höchstens 1,5 Millionen Euro.", "amount_max_eur", 1_500_000.0,
     "höchstens 1,5 Millionen Euro"),
    ("Der Zuschuss beträgt maximal 140.000 Euro.", "amount_max_eur", 140_000.0, "maximal 140.000 Euro"),
    ("Der Zuschuss beträgt € 50.000.", "amount_max_eur", 50_000.0, "€ 50.000"),
    ("Der Zuschuss beträgt 50.000 bis 250.000 Euro.", "amount_min_eur", 50_000.0, "50.000 bis 250.000 Euro"),
    ("Der Zuschuss liegt zwischen 5.000 und 25.000 Euro.", "amount_max_eur", 25_000.0,
     "zwischen 5.000 und 25.000 Euro"),
    ("Der Zuschuss beträgt 1,5 bis 2 Mio. Euro.", "amount_min_eur", 1_500_000.0, "1,5 bis 2 Mio. Euro"),
    ("Die Förderung beträgt mindestens 5.000 Euro.", "amount_min_eur", 5_000.0, "mindestens 5.000 Euro"),
    ("The EU contribution is at least EUR 100 000 per project.", "amount_min_eur", 100_000.0, "at least EUR 100 000"),
    ("The EU grant is up to €5 million.", "amount_max_eur", 5_000_000.0, "up to €5 million"),
    ("Die Förderquote beträgt 50 Prozent der zuwendungsfähigen Ausgaben.", "funding_share_pct", 50.0, "50 Prozent"),
    ("Der Zuschuss beträgt bis zu 90 % der zuwendungsfähigen Ausgaben.", "funding_share_pct", 90.0, "bis zu 90 %"),
    ("Der Eigenanteil beträgt mindestens 10 % der zuwendungsfähigen Ausgaben.", "own_contribution_pct", 10.0,
     "mindestens 10 %"),
    ("Eigenmittel in Höhe von mindestens 10 % sind einzubringen.", "own_contribution_pct", 10.0, "mindestens 10 %"),
])
def test_amount_forms(sentence, field, value, span):
    got = one(sentence)
    assert (got[field], got[f"{field}_span"]) == (value, span)


def test_a_bare_amount_counts_only_after_a_funding_noun_and_never_as_a_min():
    got = one("Sie erhalten die Förderung als Zuschuss in Höhe von 10.000 Euro.")  # written: real phrasing, no cue
    assert (got["amount_max_eur"], got["amount_max_eur_rule"]) == (10_000.0, "amount")
    assert got["amount_max_eur_confidence"] == 0.5
    assert "amount_min_eur" not in got
    assert one("Die Ausgaben betragen 10.000 Euro.") == {}
    assert one("Im Jahr 2024 ist die Antragstellung möglich.") == {}  # EXIST's sentence without its date


@pytest.mark.parametrize("sentence, today, expected", [
    # written from the brief's phrasings
    ("Anträge können jederzeit gestellt werden.", NEW_YEAR,
     ("rolling", None, "Anträge können jederzeit gestellt werden")),
    ("Anträge werden laufend entgegengenommen.", NEW_YEAR,
     ("rolling", None, "Anträge werden laufend entgegengenommen")),
    ("Die Förderung ist ohne Frist möglich.", NEW_YEAR, ("rolling", None, "ohne Frist")),
    ("Die Antragsfrist ist abgelaufen.", NEW_YEAR, ("ended", None, "Antragsfrist ist abgelaufen")),
    ("Anträge sind jährlich zum 15. März einzureichen.", date(2026, 3, 16),
     ("annual", "2027-03-15", "jährlich zum 15. März")),
    ("Anträge sind jährlich zum 15. März einzureichen.", date(2026, 3, 15),
     ("annual", "2026-03-15", "jährlich zum 15. März")),
    # the alt page's sentence with its date written out, and in English / ISO form
    ("Die Frist zur Einreichung von Projektskizzen endete am 28. November 2024", NEW_YEAR,
     ("ended", "2024-11-28", "endete am 28. November 2024")),
    ("Die Frist zur Einreichung von Projektskizzen ist am 28.11.2024 abgelaufen", date(2024, 1, 1),
     ("ended", "2024-11-28", "Frist zur Einreichung von Projektskizzen ist am 28.11.2024 abgelaufen")),
    ("Die Frist zur Einreichung von Projektskizzen endet am 28.11.2024", date(2024, 1, 1),
     ("date", "2024-11-28", "endet am 28.11.2024")),
    ("The call closes on 16 April 2026 17:00 (Brussels time).", NEW_YEAR,
     ("date", "2026-04-16", "closes on 16 April 2026 17:00")),
    ("deadline: 2026-04-16", NEW_YEAR, ("date", "2026-04-16", "deadline: 2026-04-16")),
])
def test_deadline_forms(sentence, today, expected):
    row = extract_deadlines(pd.Series([sentence]), today).iloc[0]
    got = (row["deadline_kind"], None if pd.isna(row["deadline"]) else row["deadline"], row["deadline_span"])
    assert got == expected


@pytest.mark.parametrize("sentence", [
    "Die Laufzeit des Vorhabens geht bis zum 31.12.2027.",  # written: an end of term, no application
    "Die Laufzeit des Vorhabens endet am 31.12.2027.",  # written
    "Anträge können ab dem 01.03.2025 gestellt werden.",  # written: an opening date
    "Richtlinie … vom 20.08.2024",  # the alt page's Richtlinie line, shortened
    "(opened 17.12.2025)",  # sources.md §3.3
    "Sie können uns jederzeit anrufen.",  # written: "jederzeit" about no application
])
def test_dates_and_words_that_are_no_deadline(sentence):
    assert extract_deadlines(pd.Series([sentence]), date(2024, 1, 1)).iloc[0].isna().all()


# --- frame behaviour -------------------------------------------------------------------------------

def test_stated_fields_win_over_the_text():
    frame = FUNDING_PROGRAMME.to_frame(records())
    frame.loc[0, "amount_max_eur"] = 250_000.0  # as a curated source (the SKEW reference) would state it
    out = funding_facts(frame, NEW_YEAR)
    assert out.loc[0, ["amount_max_eur", "amount_max_eur_confidence", "amount_max_eur_rule"]].tolist() == [
        250_000.0, 1.0, "stated"]
    assert pd.isna(out.loc[0, "amount_max_eur_span"])
    assert out.loc[0, "amount_min_eur_rule"] == "range"  # the rest still comes from the text


def test_index_dtypes_and_missing_texts():
    texts = pd.Series([None, "Sie erhalten die Förderung als stille Beteiligung bis zu EUR 140.000.", ""],
                      index=["x", "y", "z"], dtype="string")
    amounts, deadlines = extract_amounts(texts), extract_deadlines(texts, NEW_YEAR)
    assert list(amounts.index) == list(deadlines.index) == ["x", "y", "z"]
    assert amounts.loc["y", "amount_max_eur"] == 140_000.0 and amounts.drop("y").isna().all().all()
    assert str(amounts["amount_max_eur"].dtype) == "Float64" and str(amounts["amount_max_eur_span"].dtype) == "string"
    assert str(deadlines["deadline_confidence"].dtype) == "Float64" and list(deadlines.columns) == [
        "deadline", "deadline_kind", "deadline_span", "deadline_confidence", "deadline_rule"]
    empty = funding_facts(FUNDING_PROGRAMME.to_frame([]), NEW_YEAR)
    assert empty.empty and "amount_max_eur_rule" in empty.columns


def test_durations_follow_a_duration_word_and_a_financing_term_is_not_one():
    from transforms.funding_text import extract_durations

    texts = pd.Series([
        # real (MBG express, detail_multi_desc.html): the term of an equity stake, not a project's duration
        "Stille Beteiligungen zur Gründung oder Festigung von Unternehmen mit Beträgen zwischen 50.000 EUR und dem "
        "Höchstbetrag von 1,25 Mio. EUR (in Ausnahmefällen bis 2,5 Mio. EUR) und einer Laufzeit von bis zu 10 Jahre.",
        # sources.md §3.1, Nakopa: "up to 36 months" (with the duration word the SKEW pages use)
        "Projektlaufzeit: up to 36 months",
        "Förderdauer 2 Jahre",  # the SKEW climate partnerships' "2-year phases", in German
        "Zuschuss bis zu 36.000 Euro",  # an amount, not a duration
    ])
    out = extract_durations(texts)
    assert pd.isna(out["duration_months"].iloc[0]) and out["duration_months"].iloc[1:3].tolist() == [36, 24]
    assert out["duration_months_span"].iloc[1] == "Projektlaufzeit: up to 36 months" and pd.isna(out["duration_months"].iloc[3])
