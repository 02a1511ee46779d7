"""Funding programmes staged: the sources' words → vocabulary (region, who may apply, themes with
their rules), facts with evidence, the suite — on the real Förderdatenbank pages and the curated
SKEW reference."""
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from extractors import foerderdatenbank, skew_programmes
from schemas.records import FUNDING_PROGRAMME
from transforms.funding import eligible_classes, region_levels, stage_funding, themes

PAGES = Path(__file__).parent / "fixtures" / "foerderdatenbank"
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def fdb():
    records = [foerderdatenbank.parse_detail((PAGES / name).read_bytes(), url=url)
               for name, url in (("detail_multi_desc.html", "https://www.foerderdatenbank.de/FDB/Content/DE/"
                                  "Foerderprogramm/Land/Thueringen/beteiligungen-thueringen-mbg-express.html"),
                                 ("detail_single_desc.html", "https://www.foerderdatenbank.de/FDB/Content/DE/"
                                  "Foerderprogramm/Bund/BMWi/exist-women-2024.html"))]
    return FUNDING_PROGRAMME.to_frame(records)


@pytest.fixture(scope="module")
def skew():
    return FUNDING_PROGRAMME.to_frame(skew_programmes.extract(None))


def test_region_levels_from_the_real_words():
    out = region_levels(pd.Series(["Thüringen", "bundesweit", "partner in a DAC-list country", None]),
                        pd.Series([None, "Bundesministerium für Wirtschaft und Klimaschutz (BMWK)", "BMZ via SKEW",
                                   None]))
    assert out["region_level"].tolist()[:3] == ["land", "bund", "bund"] and pd.isna(out["region_level"].iloc[3])
    assert out["laender"].iloc[0] == "Thüringen" and pd.isna(out["laender"].iloc[1])


def test_who_may_apply_from_the_foerderdatenbank_labels():
    out = eligible_classes(pd.Series(["Kommune; Öffentliche Einrichtung; Verband/Vereinigung",
                                      "Existenzgründer/in; Unternehmen", None]))
    assert out["eligible_classes"].iloc[0] == "municipality; association; public_body"
    assert out["municipalities_eligible"].tolist()[:2] == [True, False] and pd.isna(out["municipalities_eligible"].iloc[2])


def test_themes_carry_the_rule_that_set_them(skew):
    tagged = themes(skew, stated=skew["areas"]).set_index(skew["record_key"])
    assert tagged.loc["nakopa", "themes"].startswith("partnership; development_cooperation")
    assert "partnership: stated by the source" in tagged.loc["nakopa", "theme_rules"]
    frame = pd.DataFrame({"title": ["Förderung von Bildung für nachhaltige Entwicklung"], "areas": ["Umwelt- & Naturschutz"],
                          "summary": ["Partnerschaften zwischen Schulen und Kommunen im Klimaschutz"]})
    found = themes(frame)
    assert found["themes"].iloc[0] == "partnership; climate"
    assert "climate: summary matches" in found["theme_rules"].iloc[0]


def test_foerderdatenbank_pages_stage_with_their_evidence(fdb):
    staged = stage_funding(fdb, today=TODAY)
    assert staged.accounted and len(staged.assertions) == 2 and staged.rejected.empty
    rows = staged.assertions.set_index("record_key")
    mbg = rows.loc["/FDB/Content/DE/Foerderprogramm/Land/Thueringen/beteiligungen-thueringen-mbg-express.html"]
    assert mbg["programme_key"].startswith("foerderdatenbank:/FDB/") and mbg["region_level"] == "land"
    assert mbg["laender"] == "Thüringen" and mbg["eligible_classes"] == "company"
    assert mbg["municipalities_eligible"] == False  # noqa: E712 - "Unternehmen" only
    assert mbg["amount_max_eur"] == 140_000  # "… bis zu EUR 140.000."
    evidence = json.loads(mbg["evidence"])
    assert "140.000" in evidence["amount_max_eur"]["span"]


def test_skew_programmes_stage_as_open_to_municipalities(skew):
    staged = stage_funding(skew, today=TODAY)
    assert staged.accounted and staged.rejected.empty
    rows = staged.assertions.set_index("record_key")
    nakopa = rows.loc["nakopa"]
    assert (nakopa["amount_min_eur"], nakopa["amount_max_eur"]) == (50_000, 250_000)  # stated, not extracted
    assert nakopa["municipalities_eligible"] == True and nakopa["region_level"] == "bund"  # noqa: E712
    assert nakopa["funder_key"] == "funder:bmz"
    assert json.loads(nakopa["evidence"])["amount_max_eur"]["rule"] == "stated"


def test_a_negative_amount_or_a_relative_url_goes_to_quarantine_with_its_reason(skew):
    broken = skew.copy()
    broken.loc[0, "amount_min_eur"] = -5.0
    broken.loc[1, "programme_url"] = "unterstuetzung-durch-nakopa.html"
    staged = stage_funding(broken, today=TODAY)
    reasons = staged.rejected.set_index("record_key")["reject_reason"]
    assert "amount_min_eur is negative" in reasons[broken.loc[0, "record_key"]]
    assert "programme_url is not an absolute URL" in reasons[broken.loc[1, "record_key"]]
    assert staged.accounted


def test_calls_take_their_status_from_the_dates_on_the_runs_day():
    from extractors import eu_funding_tenders
    from schemas.records import FUNDING_CALL
    from transforms.funding import stage_calls

    body = (PAGES.parent / "eu_funding_tenders" / "sedia_search_trimmed_2026-06-11.json").read_bytes()
    frame = FUNDING_CALL.to_frame(eu_funding_tenders.parse(body, url=eu_funding_tenders.ENDPOINT))
    assert set(frame["status"]) == {"forthcoming"}  # what the portal said, although the deadlines passed
    rows = stage_calls(frame, today=TODAY).assertions.set_index("record_key")
    assert set(rows["status"]) == {"closed"} and set(rows["status_raw"]) == {"31094501"}
    assert set(rows["funder_key"]) == {"funder:european_commission"}
    chips = rows.loc["HORIZON-JU-CHIPS-2025-IA-LEAI-two-stage"]
    assert (chips["opens"], chips["closes"], chips["budget_eur"]) == ("2025-03-04", "2025-09-17", 20_000_000)
    before = stage_calls(frame, today=date(2025, 5, 1)).assertions.set_index("record_key")
    assert before.loc["HORIZON-JU-CHIPS-2025-IA-LEAI-two-stage", "status"] == "open"  # between opening and deadline
    assert before.loc["HORIZON-JU-EDCTP3-2026-SCILEADERSHIPMANSSAPRIZE", "status"] == "forthcoming"


def test_a_call_that_closes_before_it_opens_is_quarantined():
    from extractors import eu_funding_tenders
    from schemas.records import FUNDING_CALL
    from transforms.funding import stage_calls

    body = (PAGES.parent / "eu_funding_tenders" / "sedia_search_trimmed_2026-06-11.json").read_bytes()
    frame = FUNDING_CALL.to_frame(eu_funding_tenders.parse(body, url=eu_funding_tenders.ENDPOINT))
    frame.loc[0, "opens"] = "2026-01-01"  # after its last deadline (2025-09-17)
    staged = stage_calls(frame, today=TODAY)
    assert len(staged.assertions) == 1 and "closes before it opens" in staged.rejected["reject_reason"].iloc[0]


def test_the_funder_is_the_first_curated_funder_its_text_names():
    from transforms.funding import funder_keys

    texts = pd.Series(["BMZ via SKEW (Engagement Global) with GIZ and DST",  # the curated SKEW reference
                       "Bundesministerium für Bildung und Forschung (BMBF)",  # a Förderdatenbank page
                       "Thüringer Ministerium für Umwelt, Energie, Naturschutz und Forsten (TMUENF)",
                       "Bürgschaftsbank Sachsen GmbH", None])
    assert funder_keys(texts).tolist()[:3] == ["funder:bmz", "funder:bmbf", "funder:tmuenf"]
    assert funder_keys(texts)[3:].isna().all()  # no curated funder named: none guessed


def test_funders_are_organisations_with_every_fact_sourced():
    from schemas import funders

    rows = {row["organisation_key"]: row for row in funders.load()}
    assert rows["funder:bmz"]["name_de"] == "Bundesministerium für wirtschaftliche Zusammenarbeit und Entwicklung"
    assert all(row["kind"] == "funder" and all(c["source"] for c in row["claims"]) for row in rows.values())


def test_an_applicant_class_outside_the_vocabulary_fails_the_suite(skew):
    from transforms.quality import validate

    staged = stage_funding(skew, today=TODAY).assertions.assign(extracted_at=pd.Timestamp("2026-11-25", tz="UTC"))
    assert validate(staged, "funding_programme_source").success
    staged.loc[0, "eligible_classes"] = "municipality; citizens"
    reasons = validate(staged, "funding_programme_source").row_reasons
    assert "eligible applicants outside the vocabulary" in reasons.iloc[0] and reasons.iloc[1:].isna().all()


def test_funding_types_from_foerderart_and_the_curated_kinds(fdb, skew):
    from transforms.funding import funding_types

    assert funding_types(fdb["funding_type"]).tolist() == ["equity", "grant"]  # "Beteiligung", "Zuschuss"
    kinds = funding_types(skew["funding_type"]).set_axis(skew["record_key"])
    assert kinds["klimapartnerschaften"] == "advice; networking"  # "non-monetary: advice, expert exchanges …"
    assert kinds["partnerschaften_ukraine"] == "grant; in_kind"
    assert funding_types(pd.Series(["Sonderform X"])).tolist() == ["other"]  # stated, but no rule knows it
