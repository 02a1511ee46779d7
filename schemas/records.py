"""Record contracts: what every extractor of a domain yields, before any transform.

A contract names the columns, their pandas dtypes and the primary key. Extractors yield
plain dicts with (a subset of) these keys; `to_frame` turns them into a typed frame so that
every later step sees the same columns whatever the source.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: Column set on a record that an extractor already knows to be bad. The row is kept and goes
#: to quarantine with this reason instead of being dropped.
REJECT_REASON = "reject_reason"


@dataclass(frozen=True)
class RecordContract:
    name: str
    columns: dict[str, str]
    primary_key: tuple[str, ...]
    description: str = ""
    required: tuple[str, ...] = field(default=())

    def to_frame(self, records: list[dict]) -> pd.DataFrame:
        """Typed frame with exactly the contract's columns plus REJECT_REASON."""
        unknown = {k for r in records for k in r} - set(self.columns) - {REJECT_REASON}
        if unknown:
            raise ValueError(f"{self.name}: records carry columns outside the contract: {sorted(unknown)}")
        frame = pd.DataFrame.from_records(records, columns=[*self.columns, REJECT_REASON])
        for column, dtype in self.columns.items():
            frame[column] = frame[column].astype(dtype)
        frame[REJECT_REASON] = frame[REJECT_REASON].astype("string")
        return frame


#: One assertion "municipality A is twinned with municipality B" as one source states it.
#: Side A is the municipality the source is about (the German one where the source is
#: Germany-centred); the pair is made undirected only later, in transforms.
PARTNERSHIP_ASSERTION = RecordContract(
    name="partnership_assertion",
    columns={
        "source": "string",
        "record_key": "string",  # stable id of the assertion within its source
        "a_name": "string",
        "a_country": "string",  # raw: ISO code, English/German/other name
        "a_qid": "string",
        "a_ags": "string",
        "a_geonames_id": "Int64",  # when the source itself states it (Wikidata P1566)
        "a_lat": "Float64",
        "a_lon": "Float64",
        "a_region": "string",  # first-level region as written (a German Land), where the source states it
        "a_postcode": "string",  # postcode of side A, where the source states it
        "b_name": "string",
        "b_country": "string",
        "b_qid": "string",
        "b_geonames_id": "Int64",
        "b_lat": "Float64",
        "b_lon": "Float64",
        "relation_type": "string",  # partnership | friendship | unspecified
        "start_raw": "string",  # the date/year as the source writes it
        "end_raw": "string",
        "reference_url": "string",
        "source_url": "string",
        "extracted_at": "datetime64[ns, UTC]",
    },
    primary_key=("source", "record_key"),
    required=("source", "record_key", "a_name", "b_name", "source_url", "extracted_at"),
    description="A twinning link between two municipalities as stated by one source.",
)

#: Relation types, most specific first: when sources disagree about a pair, the first one stated wins.
RELATION_TYPES = ("partnership", "friendship", "project_partnership", "contact", "unspecified")


#: One unit of an official register of municipalities (the German Gemeindeverzeichnis): the
#: identity authority for its country. `record_key` is the official key (AGS).
MUNICIPALITY_REGISTER = RecordContract(
    name="municipality_register",
    columns={
        "source": "string",
        "record_key": "string",
        "ags": "string",  # Amtlicher Gemeindeschlüssel, 8 digits
        "name": "string",  # official name without its title ("Halle (Westf.)")
        "official_name": "string",  # as the register writes it ("Halle (Westf.), Stadt")
        "title": "string",  # "Stadt", "M", "GKSt", "Hansestadt" …
        "kind": "string",  # municipality | unincorporated_area
        "type_code": "string",  # the register's own type code (Textkennzeichen)
        "land_code": "string",
        "land": "string",
        "kreis_code": "string",
        "kreis": "string",
        "verband": "string",  # Gemeindeverband (Amt, Verbandsgemeinde …), where one exists
        "population": "Int64",
        "area_km2": "Float64",
        "postcode": "string",
        "lat": "Float64",
        "lon": "Float64",
        "source_url": "string",
        "extracted_at": "datetime64[ns, UTC]",
    },
    primary_key=("source", "record_key"),
    required=("source", "record_key", "ags", "name", "source_url", "extracted_at"),
    description="A municipality as its country's official register states it.",
)


#: One membership "this municipality (or group, region …) belongs to this network" as one
#: source states it. `network` is the network's key in `schemas/networks.yaml`.
MEMBERSHIP_ASSERTION = RecordContract(
    name="membership_assertion",
    columns={
        "source": "string",
        "record_key": "string",  # stable id of the membership within its source
        "network": "string",
        "member_id": "string",  # the source's own id of the member (Covenant organisation_id)
        "member_name": "string",
        "member_kind": "string",  # municipality | group | district | region | association (as the source types it)
        "member_country": "string",  # raw: ISO code or name
        "member_qid": "string",
        "member_ags": "string",  # Amtlicher Gemeindeschlüssel, where the source states it (Wikidata P439)
        "member_lat": "Float64",
        "member_lon": "Float64",
        "member_population": "Int64",
        "status": "string",  # active | suspended | full | associate … (normalised per source)
        "since_raw": "string",  # the join date/year as the source writes it
        "since_date": "string",  # ISO date where the source states a day
        "since_year": "Int64",
        "until_year": "Int64",
        "commitments": "string",  # ';'-joined commitment flags the source states (Covenant: com2020;com2030 …)
        "source_url": "string",
        "extracted_at": "datetime64[ns, UTC]",
    },
    primary_key=("source", "record_key"),
    required=("source", "record_key", "network", "member_name", "source_url", "extracted_at"),
    description="A member of a city network as stated by one source.",
)


#: One funding programme as one source states it (issue 8). Raw-ish: the source's own words per
#: field (Förderart, Förderbereich …), `;`-joined where the source lists several; amounts and
#: deadlines only where the source states them as fields (the curated SKEW reference) — those in
#: free text are extracted later, by transforms, with the text span they come from.
FUNDING_PROGRAMME = RecordContract(
    name="funding_programme",
    columns={
        "source": "string",
        "record_key": "string",  # stable id within the source (Förderdatenbank: the detail page's path)
        "title": "string",
        "funding_type": "string",  # Förderart as written ("Zuschuss; Darlehen")
        "areas": "string",  # Förderbereich as written, ';'-joined
        "region": "string",  # Fördergebiet as written ("Bund", "Nordrhein-Westfalen; Sachsen", "EU")
        "eligible": "string",  # Förderberechtigte as written, ';'-joined
        "funder": "string",  # Fördergeber (organisation) as written
        "funder_url": "string",
        "contact": "string",  # Ansprechpunkt as text
        "summary": "string",  # Kurzzusammenfassung (the source's text, unaltered: CC BY-ND)
        "details": "string",  # Zusatzinfos / further text
        "legal_basis": "string",  # Rechtsgrundlage text
        "links": "string",  # Weiterführende Links, ';'-joined absolute URLs
        "amount_min_eur": "Float64",  # stated as a field (curated sources); free text is extracted later
        "amount_max_eur": "Float64",
        "own_contribution_pct": "Float64",
        "duration_months": "Int64",
        "programme_url": "string",  # the programme's own page
        "source_url": "string",  # the page this record was read from
        "extracted_at": "datetime64[ns, UTC]",
    },
    primary_key=("source", "record_key"),
    required=("source", "record_key", "title", "source_url", "extracted_at"),
    description="A funding programme as stated by one source.",
)


#: One concrete call for proposals (an EU topic, a programme's call round) as one source states it.
FUNDING_CALL = RecordContract(
    name="funding_call",
    columns={
        "source": "string",
        "record_key": "string",  # the call's identifier in its source (EU: the topic identifier)
        "call_identifier": "string",  # the call the topic belongs to
        "title": "string",
        "programme": "string",  # the funding programme as the source names it (EU: frameworkProgramme id)
        "funder": "string",  # who pays, as the source says (the EU portal: the European Commission)
        "status": "string",  # forthcoming | open | closed (the source's code mapped; the code kept in status_raw)
        "status_raw": "string",
        "opens": "string",  # ISO date
        "closes": "string",  # ISO date of the last deadline
        "deadlines": "string",  # every deadline, ISO dates ';'-joined (two-stage calls have two)
        "deadline_model": "string",  # single-stage | two-stage | multiple cut-off | …
        "budget_eur": "Float64",
        "min_contribution_eur": "Float64",
        "max_contribution_eur": "Float64",
        "expected_grants": "Int64",
        "types_of_action": "string",
        "summary": "string",
        "languages": "string",  # the languages the source had it in, collapsed into this record
        "call_url": "string",  # the human-readable topic page
        "source_url": "string",
        "extracted_at": "datetime64[ns, UTC]",
    },
    primary_key=("source", "record_key"),
    required=("source", "record_key", "title", "source_url", "extracted_at"),
    description="A call for proposals (a topic) as stated by one source.",
)
