"""Shared fixtures: real stores built from the real police open data in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

# CI runs the property tests on a fixed sequence of examples so that a submission's result is
# reproducible; run locally, hypothesis explores new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARMSCOPE_SHARED", ROOT.parent / "shared")) / "data"
POLICE = SHARED / "police"
KENT_STREET = sorted((POLICE / "kent" / "street").glob("*.csv.gz"))
KENT_STOP_SEARCH = sorted((POLICE / "kent" / "stop-and-search").glob("*.csv.gz"))
COMPARISON_STREET = sorted((POLICE / "comparison" / "street").glob("*.csv.gz"))
EXCERPTS = POLICE / "kent" / "excerpts"


def _need_shared() -> None:
    if not KENT_STREET:
        pytest.fail(f"the real police data is missing: expected files under {POLICE}")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    _need_shared()
    return SHARED


@pytest.fixture(scope="session")
def kent_store_path(tmp_path_factory) -> Path:
    """A store file with every Kent street file (2024-01..04, 2025-01..12) and the 12 Kent
    2018 stop-and-search files. Tests must not write to it."""
    _need_shared()
    path = tmp_path_factory.mktemp("kent") / "kent.duckdb"
    with Store.open(path) as store:
        report = ingest_paths(store, [*KENT_STREET, *KENT_STOP_SEARCH])
        assert report.ok, report.failed
    return path


@pytest.fixture(scope="session")
def kent_store(kent_store_path) -> Store:
    store = Store.open(kent_store_path, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="session")
def all_store_path(tmp_path_factory) -> Path:
    """Kent (street and stop and search) plus the Essex and Sussex street files."""
    _need_shared()
    path = tmp_path_factory.mktemp("all") / "all.duckdb"
    with Store.open(path) as store:
        report = ingest_paths(store, [*KENT_STREET, *KENT_STOP_SEARCH, *COMPARISON_STREET])
        assert report.ok, report.failed
    return path


@pytest.fixture(scope="session")
def all_store(all_store_path) -> Store:
    store = Store.open(all_store_path, read_only=True)
    yield store
    store.close()
