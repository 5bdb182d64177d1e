from __future__ import annotations

import pytest

from alltx.assess import TherapyOption, assess
from alltx.catalog import Catalog
from alltx.datafile import load_catalog
from alltx.facts import facts_from


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def options_for(catalog: Catalog, **given: object) -> dict[str, TherapyOption]:
    """Assess the bundled catalog for these facts, keyed by therapy id."""
    return {o.therapy.id: o for o in assess(facts_from(given), catalog)}
