from __future__ import annotations

import pytest

from alltx.assess import TherapyOption, assess
from alltx.catalog import Catalog
from alltx.data_files import load_catalog
from alltx.facts import facts_from


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def options_for(catalog: Catalog, **given: object) -> dict[str, TherapyOption]:
    """Assess the bundled catalog for these facts, keyed by therapy id."""
    return {o.therapy.id: o for o in assess(facts_from(given), catalog)}


def over_80(text: str) -> list[str]:
    """Lines wider than 80 columns, apart from a web address on a line of its own: those are
    printed whole on purpose, so they can be copied (never folded)."""
    return [
        line
        for line in text.splitlines()
        if len(line) > 80 and not (line.strip().startswith("http") and " " not in line.strip())
    ]
