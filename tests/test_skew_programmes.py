"""The curated SKEW/BMZ programmes reference: every programme of sources.md §3.1, every fact sourced."""
from datetime import datetime, timezone

import pytest

from extractors import skew_programmes as skew
from extractors.base import SourceChanged
from schemas.records import FUNDING_PROGRAMME

WHEN = datetime(2026, 11, 25, tzinfo=timezone.utc)
SKEW = "https://skew.engagement-global.de/"
#: The programmes of the table in docs/sources.md §3.1, as it names them.
TABLE_PROGRAMMES = ("Nakopa", "Kommunales Know-how für Nahost", "Kommunale Klimapartnerschaften",
                    "Deutsch-palästinensische kommunale Partnerschaften", "Kommunale Partnerschaften mit der Ukraine",
                    "Solidaritätspartnerschaften", "Koordination kommunaler Entwicklungspolitik", "KEpol", "IKKN")
#: The SKEW pages sources.md §3.1 lists as seen.
PAGES = ("unterstuetzung-durch-nakopa.html", "kommunale-klimapartnerschaften.html",
         "initiative-kommunales-know-how-nahost.html",
         "aufruf-dritte-phase-deutsch-palaestinensische-partnerschaften.html",
         "koordination-kommunaler-entwicklungspolitik.html", "staedteplattform-fuer-nachhaltige-entwicklung.html")


@pytest.fixture(scope="module")
def curated():
    return skew.load()


@pytest.fixture(scope="module")
def records():
    return {record["record_key"]: record for record in skew.extract(None)}


def claims(programmes, key: str, field: str) -> set:
    [programme] = [p for p in programmes if p.key == key]
    return {(c.value, c.source) for c in programme.all(field)}


def test_every_programme_of_the_sources_catalogue_is_there(curated):
    _, programmes = curated
    names = {c.value for p in programmes for c in p.claims if c.field in ("name_de", "acronym")}
    assert set(TABLE_PROGRAMMES) <= names
    # and the brochure's Schwerpunkte and platform (seed 001)
    assert {"know_how_maghreb", "connective_cities"} <= {p.key for p in programmes}


def test_nakopa_amounts_share_and_duration_are_the_sourced_values(curated, records):
    _, programmes = curated
    assert claims(programmes, "nakopa", "amount_min_eur") == {(50000, "nakopa_call_2023_24")}
    # the sources disagree: both claims are kept
    assert claims(programmes, "nakopa", "amount_max_eur") == {(250000, "nakopa_call_2023_24"), (500000, "nakopa_page")}
    assert claims(programmes, "nakopa", "own_contribution_pct") == {(10, "nakopa_page")}
    assert claims(programmes, "nakopa", "max_funding_share_pct") == {(90, "nakopa_page")}
    assert claims(programmes, "nakopa", "duration_months") == {(36, "nakopa_page")}
    nakopa = records["nakopa"]
    # the columns take the claim of the latest call; the historical maximum stays in the details
    assert (nakopa["amount_min_eur"], nakopa["amount_max_eur"]) == (50000, 250000)
    assert (nakopa["own_contribution_pct"], nakopa["duration_months"]) == (10, 36)
    assert "amount_max_eur: 500000 (nakopa_page; historically, in exceptional cases)" in nakopa["details"]
    assert "27.01.2017 / 21.04.2017" in nakopa["details"]
    assert nakopa["title"] == "Nachhaltige Kommunalentwicklung durch Partnerschaftsprojekte"
    assert nakopa["programme_url"] == SKEW + "unterstuetzung-durch-nakopa.html"


def test_every_claim_cites_a_listed_source_and_every_source_is_used(curated):
    sources, programmes = curated
    used = {c.source for p in programmes for c in p.claims}
    assert used == set(sources)
    assert all(text.strip() for text in sources.values())
    for programme in programmes:
        for claim in programme.all("themes"):
            assert set(claim.value) <= skew.THEMES
        assert programme.all("name_de"), programme.key


def test_the_records_fit_the_funding_contract_with_unique_keys(records):
    frame = FUNDING_PROGRAMME.to_frame(list(records.values()))
    assert len(frame) == len(records) and frame["record_key"].is_unique
    assert all(frame[column].notna().all() for column in FUNDING_PROGRAMME.required)
    assert set(frame["source"]) == {"skew_programmes"}
    assert {url.removeprefix(SKEW) for url in frame["programme_url"].dropna()} == set(PAGES)
    # every record is read from the curated file (its page, where named, is programme_url)
    assert records["partnerschaften_ukraine"]["source_url"] == f"repo:{skew.REPO_PATH}#partnerschaften_ukraine"
    assert records["nakopa"]["source_url"] == f"repo:{skew.REPO_PATH}#nakopa"
    assert records["know_how_nahost"]["links"] == "https://www.initiative-nahost.de/"


def test_nothing_curated_is_lost_in_the_records(curated, records):
    sources, programmes = curated
    for programme in programmes:
        record = records[programme.key]
        shown = " ".join(str(v) for k, v in record.items() if k != "details")
        for claim in programme.claims:
            values = claim.value if isinstance(claim.value, list) else [claim.value]
            assert all(str(value) in shown or str(value) in record["details"] for value in values), claim
        for key in {c.source for c in programme.claims}:
            assert f"source {key}: {sources[key]}" in record["details"]


def test_parse_reads_a_copy_of_the_file_like_extract():
    content = skew.PATH.read_bytes()
    parsed = skew.parse(content, url="file:///tmp/skew_programmes.yaml", extracted_at=WHEN)
    extracted = skew.extract(None)
    assert [r["record_key"] for r in parsed] == [r["record_key"] for r in extracted]
    assert all(r["extracted_at"] == WHEN for r in parsed)
    without_page = next(r for r in parsed if r["record_key"] == "know_how_maghreb")
    assert without_page["source_url"] == "file:///tmp/skew_programmes.yaml"


def test_source_declaration():
    assert skew.SOURCE.name == "skew_programmes" and skew.SOURCE.domain == "funding"
    assert skew.SOURCE.contract is FUNDING_PROGRAMME
    assert skew.SOURCE.url == "extractors/skew_programmes.yaml"
    assert skew.SOURCE.recorded == "2026-11-25"


HEAD = "sources: {s: a citation}\nprogrammes:\n  - key: p\n    name: {de: P, source: s}\n"


@pytest.mark.parametrize("text, message", [
    (HEAD + "    funder: {value: BMZ}\n", r"p\.funder: every fact needs a source"),
    (HEAD + "    funder: {value: BMZ, source: t}\n", r"p\.funder: every fact needs a source"),
    (HEAD + "    funder: BMZ\n", r"p\.funder: every fact needs a source"),
    (HEAD + "    themes: {value: [partnership, sports], source: s}\n", r"p\.themes: \['sports'\] not in the vocabulary"),
    (HEAD + "    kind: {value: [loan], source: s}\n", r"p\.kind: \['loan'\] not in the vocabulary"),
    (HEAD + "    amount_min_eur: {value: 300000, source: s}\n    amount_max_eur: {value: 250000, source: s}\n",
     r"p\.amount_min_eur: 300000 is above amount_max_eur 250000"),
    (HEAD + "    amount_max_eur: {value: -5, source: s}\n", r"p\.amount_max_eur: negative amount"),
    (HEAD + "    own_contribution_pct: {value: 110, source: s}\n", r"p\.own_contribution_pct: share 110 outside"),
    (HEAD + "    duration_months: {value: 0, source: s}\n", r"p\.duration_months: expected a positive"),
    (HEAD + "    mascot: {value: owl, source: s}\n", r"p: unknown field 'mascot'"),
    (HEAD + "    funder: {value: BMZ, source: s, sorce: s}\n", r"p\.funder: unknown keys \['sorce'\]"),
    (HEAD + "    deadlines: {value: rolling, source: s, as_of: soon}\n", r"p\.deadlines: as_of 'soon' names no year"),
    (HEAD + "  - key: p\n    name: {de: Q, source: s}\n", r"programme key 'p' missing or used twice"),
    ("sources: {s: a citation}\nprogrammes:\n  - key: p\n    funder: {value: BMZ, source: s}\n",
     r"p\.name: a programme needs its German name"),
])
def test_a_broken_file_is_refused_naming_programme_and_field(tmp_path, text, message):
    path = tmp_path / "skew_programmes.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(skew.ProgrammeFileError, match=message):
        skew.load(path)
    with pytest.raises(ValueError, match=message):  # parse refuses it the same way, as a source error
        skew.parse(text.encode(), url="file:///tmp/skew_programmes.yaml")
    assert issubclass(skew.ProgrammeFileError, SourceChanged)


def test_a_minimum_above_the_latest_maximum_of_another_source_is_refused(tmp_path):
    text = ("sources: {s: a, t: b}\nprogrammes:\n  - key: p\n    name: {de: P, source: s}\n"
            "    amount_min_eur: {value: 100, source: s, as_of: '2024'}\n"
            "    amount_max_eur: [{value: 50, source: t, as_of: '2023'}, {value: 500, source: s}]\n")
    with pytest.raises(skew.ProgrammeFileError, match=r"p\.amount_min_eur: the latest minimum 100"):
        skew.parse(text, url="x.yaml")
