"""Assemble `recordings/bundled/` — the offline replay set — from the real recorded files.

Each real file is filed as the response to the exact request the extractor makes live, so
`citylinks run --replay recordings/bundled` exercises the same code path as a live run. Run
once by a maintainer (`python recordings/build_bundled.py [FIXTURES_DIR]`); the result is
committed. Provenance of every file: recordings/PROVENANCE.md.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors import german_partnerships_2015, twincities_dataset, wikidata_twinnings, wikipedia_twinning_sections  # noqa: E402,E501
from extractors.destatis_municipalities import SOURCE as DESTATIS  # noqa: E402

#: Where the bundled copy of the register was taken from (the CSV a project derived from Destatis' XLSX).
DESTATIS_COPY = ("https://raw.githubusercontent.com/grundeinkommensbuero/backend/dbb05dba5237/utils/analyseData/"
                 "recentMunicipalityData/data/AuszugGV4QAktuell.csv")
#: Where the bundled copy of the Covenant of Mayors workbook was taken from.
COVENANT_COPY = ("https://raw.githubusercontent.com/LisaMarieKauck/OfflineMARLCityNetworkClimate/a281afc7cade/Data/"
                 "df1_Signatories_2024.xlsx")
from extractors import etmun_member_lists, eu_funding_tenders, foerderdatenbank, wikidata_memberships  # noqa: E402
from extractors.covenant_of_mayors import SOURCE as COVENANT  # noqa: E402
from extractors.http import add_recording  # noqa: E402

TARGET = ROOT / "recordings" / "bundled"


def main(fixtures: Path) -> None:
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)

    req = wikidata_twinnings.request()
    add_recording(TARGET, "POST", req["url"], (fixtures / "wikidata/p190_german_cities_2017-02.sparql.json").read_bytes(),
                  data=req["data"], headers={"content-type": "application/sparql-results+json"},
                  recorded_at="2017-02-15T00:00:00Z",
                  note="real WDQS P190 result for German cities (Feb 2017, github.com/displayn/sistercities); only "
                       "?city ?cityLabel ?partner ?partnerLabel bound — the simpler query of that time. CC0.")

    add_recording(TARGET, "GET", twincities_dataset.URL, (fixtures / "twincities/twin_cities_2026-02.csv").read_bytes(),
                  headers={"content-type": "text/csv; charset=utf-8"}, recorded_at="2026-02-08T00:00:00Z",
                  note="github.com/Hekman/twincities app/public/twin_cities.csv @ 84ebdec26ee6. MIT; "
                       "content from Wikipedia CC BY-SA 4.0.")

    add_recording(TARGET, "GET", DESTATIS_COPY,
                  (fixtures / "destatis/gemeindeverzeichnis_auszug_gv4q_2020.csv").read_bytes(),
                  headers={"content-type": "text/plain; charset=utf-8"}, recorded_at="2021-01-15T00:00:00Z",
                  note="Destatis GV-ISys quarterly extract (Gebietsstand 31.12.2020) as CSV, saved from the XLSX "
                       "by github.com/grundeinkommensbuero/backend @ dbb05dba5237. © Statistisches Bundesamt "
                       "(Destatis), dl-de/by-2-0.")

    add_recording(TARGET, "GET", german_partnerships_2015.URL,
                  (fixtures / "german_partnerships/partnerstaedte_rgre_categories_2015.csv").read_bytes(),
                  headers={"content-type": "text/plain; charset=utf-8"}, recorded_at="2015-06-18T00:00:00Z",
                  note="github.com/muenchdo/TwinTowns data/data/partnerstaedte_final.csv @ 6144481b3684: 7,137 "
                       "partnerships of German municipalities with RGRE categories. Repository MIT; facts.")

    titles = {"Toronto": "enwiki_Toronto_2015-03.wikitext", "Bodmin": "enwiki_Bodmin_2017-08.wikitext"}
    recorded = {"Toronto": "2015-03-01T00:00:00Z", "Bodmin": "2017-08-01T00:00:00Z"}
    for title, filename in titles.items():
        req = wikipedia_twinning_sections.parse_request(title, wiki="en")
        wikitext = (fixtures / "wikipedia" / filename).read_text(encoding="utf-8")
        # The real wikitext in the documented action=parse&formatversion=2 envelope; a live
        # `--record` run stores the real envelope.
        body = json.dumps({"parse": {"title": title, "pageid": 0, "wikitext": wikitext}}, ensure_ascii=False)
        add_recording(TARGET, "GET", req["url"], body.encode("utf-8"), params=req["params"],
                      headers={"content-type": "application/json; charset=utf-8"}, recorded_at=recorded[title],
                      note=f"real enwiki wikitext of {title} (github.com/spencermountain/wtf_wikipedia "
                           f"tests/cache), wrapped in the action=parse envelope. CC BY-SA.")
    add_recording(TARGET, "GET", COVENANT_COPY,
                  (fixtures / "covenant_of_mayors/df1_Signatories_2024.xlsx").read_bytes(),
                  headers={"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
                  recorded_at="2024-04-01T00:00:00Z",
                  note="JRC open data GCoM – MyCovenant, 5th release (January 2024): 11,973 signatories; copy "
                       "from github.com/LisaMarieKauck/OfflineMARLCityNetworkClimate Data/ @ a281afc7cade. "
                       "© European Union (JRC), CC BY 4.0.")
    add_recording(TARGET, "GET", etmun_member_lists.URL,
                  (fixtures / "networks/etmun_member_lists_10_networks_2016-2019.xlsx").read_bytes(),
                  headers={"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
                  recorded_at="2021-01-01T00:00:00Z",
                  note="BD ETMUN member lists of 10 networks (2016-19) with the Meta data sheet, from "
                       "github.com/pgourdongeo/Chap3_LocationalAnalysis ETMUN/DataSource @ 78eaac08ed77; the other "
                       "sheets of the original workbook are not included. No licence stated; attribute BD ETMUN.")
    entities = {"Q2112": "wikidata/entity_Q2112_Bielefeld_2023-04-04.json"}
    for qid, path in entities.items():
        add_recording(TARGET, "GET", wikidata_memberships.ENTITY_URL.format(qid=qid), (fixtures / path).read_bytes(),
                      headers={"content-type": "application/json"}, recorded_at="2023-04-04T00:00:00Z",
                      note=f"real Wikidata entity JSON of {qid} (Bielefeld; the bare entity object, as inside "
                           "`entities`), from github.com/maxlath/wikibase-sdk tests/data/Q2112.json @ 3df975ab9f38. "
                           "CC0; MIT.")
    # Förderdatenbank detail pages, filed under the canonical URL each page states (<link rel=canonical>)
    programmes = {}
    for name in ("detail_multi_desc.html", "detail_rechts_only.html", "detail_single_desc.html",
                 "details_single_desc_alt.html"):
        body = (fixtures / "foerderdatenbank" / name).read_bytes()
        url = foerderdatenbank.parse_detail(body, url=(fixtures / "foerderdatenbank" / name).resolve().as_uri())[
            "programme_url"]
        programmes[url] = name
        add_recording(TARGET, "GET", url, body, headers={"content-type": "text/html;charset=UTF-8"},
                      recorded_at="2024-11-01T00:00:00Z",
                      note=f"real foerderdatenbank.de detail page ({name}) from github.com/digital-codes/"
                           "cdl_funding_scraper tests/test_scrapy/ @ b58b0b24183873. Texts CC BY-ND 3.0 DE.")
    # EU Funding & Tenders: a real search response (2 Horizon Europe topics, frameworkProgramme
    # 43108390), filed as the answer to the request this extractor makes for that programme
    eu = {"framework_programmes": ["43108390"], "max_pages": 1}
    req = eu_funding_tenders.request(eu["framework_programmes"], 1)
    add_recording(TARGET, "POST", req["url"],
                  (fixtures / "eu_funding_tenders/sedia_search_trimmed_2026-06-11.json").read_bytes(),
                  params=req["params"], data=req["data"], headers={"content-type": "application/json"},
                  recorded_at="2026-06-11T00:00:00Z",
                  note="real SEDIA search response fetched 2026-06-11 (pageSize=3, multipart query/sort/languages "
                       "whose content was not recorded), trimmed by its recorder to 2 Horizon Europe topics; from "
                       "github.com/georget-j/ai-bid-manager tests/fixtures/sedia-search-page.json @ 7b077f658739. "
                       "Filed under this extractor's request for frameworkProgramme 43108390: not the request "
                       "that produced it. EU reuse policy (Decision 2011/833/EU).")
    (TARGET / "options.json").write_text(json.dumps(
        {"wikipedia_twinning_sections": {"titles": list(titles), "wiki": "en", "single_pages": True},
         DESTATIS.name: {"url": DESTATIS_COPY}, COVENANT.name: {"url": COVENANT_COPY},
         wikidata_memberships.SOURCE.name: {"entities": list(entities)},
         foerderdatenbank.SOURCE.name: {"urls": list(programmes)}, eu_funding_tenders.SOURCE.name: eu},
        indent=2) + "\n")
    print(f"bundled recordings written to {TARGET}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "fixtures")
