"""Shared pytest fixtures. Each section belongs to one area; add new ones in their own section."""
from __future__ import annotations

import pytest

# Warehouse engines (SQLite, PostgreSQL) and the bundled recordings.
pytest_plugins = ["tests.support"]

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
