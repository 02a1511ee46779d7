"""Members of city networks staged like partnership sides: the register for German members, the
gazetteer with the source's coordinates, groups and associations never resolved to a place."""
import pytest

from extractors import covenant_of_mayors, destatis_municipalities, etmun_member_lists
from schemas.records import MEMBERSHIP_ASSERTION, MUNICIPALITY_REGISTER
from tests.support import bundled_path
from tests.test_covenant_of_mayors import COPY as COVENANT
from tests.test_destatis import COPY as DESTATIS
from transforms.memberships import stage_memberships
from transforms.registers import OfficialRegister, stage_register


@pytest.fixture(scope="module")
def register(gazetteer_places, name_index):
    raw = MUNICIPALITY_REGISTER.to_frame(destatis_municipalities.parse(bundled_path("GET", DESTATIS).read_bytes(),
                                                                       url=DESTATIS))
    return OfficialRegister(stage_register(raw, places=gazetteer_places, index=name_index).municipalities)


def staged(records, register, places, index):
    return stage_memberships(MEMBERSHIP_ASSERTION.to_frame(records), places=places, index=index, register=register)


def official(keys, register):
    linked = {f"gn:{g}" for g in register.table["geonames_id"].dropna().astype(int)}
    return keys.str.startswith("ags:") | keys.isin(linked)


def test_covenant_signatories_resolve_and_german_ones_are_official(register, gazetteer_places, name_index):
    out = staged(covenant_of_mayors.parse(bundled_path("GET", COVENANT).read_bytes(), url=COVENANT), register,
                 gazetteer_places, name_index)
    assert out.accounted and len(out.assertions) == 11_972 and len(out.rejected) == 1  # the signatory named "None"
    m = out.assertions
    assert m["membership_key"].str.startswith("covenant_of_mayors|").all()
    german = m[m["raw_country"] == "DE"]
    assert len(german) == 90 and official(german["municipality_id"], register).mean() > 0.97  # "Koeln" via GeoNames
    identities = out.municipalities.set_index("municipality_id")
    group = identities.loc[m["municipality_id"].iloc[0]]  # "Alkmaar, Bergen, Castricum, …"
    assert group["kind"] == "group" and group["match_status"] == "unresolved" and m["municipality_id"].iloc[0].startswith(
        "nm:NL:")
    resolved = (identities["match_status"] == "resolved").mean()
    assert resolved > 0.8, f"{resolved:.1%} of signatory identities resolved"


def test_network_members_keep_their_type_and_districts_are_not_municipalities(register, gazetteer_places, name_index):
    out = staged(etmun_member_lists.parse(bundled_path("GET", etmun_member_lists.URL).read_bytes()), register,
                 gazetteer_places, name_index)
    assert out.accounted
    identities = out.municipalities.set_index("municipality_id")
    m = out.assertions.set_index("raw_name")
    luechow = identities.loc[m.loc["Landkreis Lüchow-Dannenberg", "municipality_id"]]
    assert luechow["kind"] == "district" and luechow["match_status"] != "resolved"
    assert official(m.loc[["Cologne"], "municipality_id"], register).all()  # an exonym, official through GeoNames
