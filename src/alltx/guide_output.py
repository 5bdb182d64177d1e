"""The guide commands' machine-readable answers, as plain dicts (shapes in `alltx.contract`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from alltx.catalog import Catalog, Statement, Therapy
from alltx.grading import Grading
from alltx.guide import Guide, Practice, SideEffect, Term
from alltx.output import DISCLAIMER, VERSION, source_json, statement_json


def _statements(statements: tuple[Statement, ...]) -> list[dict[str, Any]]:
    return [statement_json(s) for s in statements]


def _optional(statement: Statement | None) -> dict[str, Any] | None:
    return None if statement is None else statement_json(statement)


def answer(guide: Guide, body: dict[str, Any]) -> dict[str, Any]:
    """A guide answer: its body, the sources the guide has, the guide's date, the disclaimer."""
    info = guide.info
    return {
        "version": VERSION,
        **body,
        "sources": [source_json(s) for s in guide.sources.values()],
        "data": {
            "release": info.release,
            "updated": info.updated.isoformat(),
            "file": guide.origin,
        },
        "disclaimer": DISCLAIMER,
    }


def transplant_json(guide: Guide, catalog: Catalog) -> dict[str, Any]:
    t = guide.transplant
    referral = catalog.referral("transplant")
    reasons = [] if referral is None else [reason.text for reason in referral.reasons]
    return {
        "when": {
            "reasons": reasons,
            "sources": [] if referral is None else list(referral.source),
            "about": [] if referral is None else _statements(referral.about),
        },
        "what": _statements(t.what),
        "steps": _statements(t.steps),
        "first_visit": _statements(t.first_visit),
        "relapse_risk": _statements(t.relapse_risk),
        "questions": questions_json(guide, "transplant"),
    }


def side_effect_json(effect: SideEffect) -> dict[str, Any]:
    return {
        "id": effect.id,
        "name": effect.name,
        "aliases": list(effect.aliases),
        "what": statement_json(effect.what),
        "therapies": list(effect.therapies),
        "boxed": list(effect.boxed),
        "carried": statement_json(effect.carried),
        "symptoms": _statements(effect.symptoms),
        "timing": _statements(effect.timing),
        "figures": _statements(effect.figures),
        "grading": effect.grading,
    }


def _plain(value: object) -> object:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def grading_json(grading: Grading) -> dict[str, Any]:
    scale = grading.scale
    return {
        "scale": scale.id,
        "name": scale.name,
        "applies": grading.applies,
        "grade": grading.low if grading.decided else None,
        "lowest": grading.low,
        "highest": grading.high,
        "set_by": [f.feature.id for f in grading.set_by],
        "could_raise": [f.feature.id for f in grading.unknown],
        "would_decide": [feature.id for feature in grading.deciding],
        "open": [f.feature.id for f in grading.open],
        "age_note": _optional(grading.age_note),
        "findings": [
            {
                "feature": f.feature.id,
                "label": f.feature.label,
                "value": _plain(f.value),
                "grade": None if f.level is None else f.level.grade,
                "possible": list(f.possible),
                "text": None if f.level is None else f.level.text,
                "note": f.note or None,
                "used": f.used,
            }
            for f in grading.features
        ],
        "notes": _statements(scale.notes),
        "scale_sources": list(scale.source),
    }


def practice_json(practice: Practice | None) -> dict[str, Any] | None:
    if practice is None:
        return None
    return {
        "how": statement_json(practice.how),
        "where": _optional(practice.where),
        "duration": statement_json(practice.duration),
        "hospital_stay": _optional(practice.hospital_stay),
        "timeline": [
            {
                "label": s.label,
                "span": s.span,
                "kind": s.kind,
                "days": s.days,
                "sources": list(s.source),
            }
            for s in practice.timeline
        ],
        "timeline_to_scale": practice.to_scale,
        "timeline_note": _optional(practice.timeline_note),
    }


def compare_json(therapies: list[Therapy], guide: Guide) -> dict[str, Any]:
    rows = []
    for therapy in therapies:
        practice = guide.practice_for(therapy.id)
        rows.append(
            {
                "therapy": therapy.id,
                "name": therapy.name,
                "brands": list(therapy.brands),
                "kind": statement_json(therapy.kind),
                "approved_for": [i.summary for i in therapy.indications],
                "practice": practice_json(practice),
                "serious_side_effects": [
                    e.id for e in guide.side_effects if therapy.id in e.therapies
                ],
                "boxed_warning": _statements(therapy.boxed_warning),
            }
        )
    return {"therapies": rows}


def term_json(term: Term) -> dict[str, Any]:
    return {
        "id": term.id,
        "term": term.term,
        "aliases": list(term.aliases),
        "text": term.text,
        "sources": list(term.source),
    }


def questions_json(guide: Guide, topic: str | None) -> list[dict[str, Any]]:
    return [
        {"for": q.topic, "text": q.text, "sources": list(q.source)}
        for q in guide.questions
        if topic is None or q.topic == topic
    ]
