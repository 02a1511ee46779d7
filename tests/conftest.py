"""Shared pytest fixtures. Each section belongs to one area; add new ones in their own section."""
from __future__ import annotations

import os

import pytest

# Warehouse engines (SQLite, PostgreSQL) and the bundled recordings.
pytest_plugins = ["tests.support"]

@pytest.fixture(scope="session", autouse=True)
def citylinks_home(tmp_path_factory):
    """Tests never touch the user's CITYLINKS_HOME; one cache (gazetteer index) for the session."""
    home = tmp_path_factory.mktemp("citylinks-home")
    saved = {k: os.environ.get(k) for k in ("CITYLINKS_HOME", "CITYLINKS_CACHE_DIR")}
    os.environ["CITYLINKS_HOME"] = str(home)
    os.environ["CITYLINKS_CACHE_DIR"] = str(home / "cache")
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# ============================================================================
# Identity resolution (transforms/identity.py): the GeoNames gazetteer, loaded once per session
# (~3 s to load, ~5 s to index) and shared read-only by every test that needs it.
# ============================================================================


@pytest.fixture(scope="session")
def gazetteer_places():
    from extractors.geonames_gazetteer import load_places

    return load_places()


@pytest.fixture(scope="session")
def name_index(gazetteer_places):
    from transforms.identity import build_name_index

    return build_name_index(gazetteer_places)

# ============================================================================
# (end of identity resolution fixtures)
# ============================================================================
