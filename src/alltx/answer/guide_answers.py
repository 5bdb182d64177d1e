"""The guide commands' machine-readable answers, as plain dicts; each builder returns its
shape from `alltx.answer.shapes`, as `alltx.answer.answers` does."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from alltx.answer.answers import (
    DISCLAIMER,
    VERSION,
    disclaimer,
    plain,
    source_json,
    statement_json,
)
from alltx.assessment.grading import Grading
from alltx.core.facts import Counted, Facts
from alltx.model.catalog import Catalog, Statement, Therapy
from alltx.model.guide import Guide, Practice, SideEffect, Term

if TYPE_CHECKING:
    from alltx.answer.shapes import (
        CompareAnswer,
        CompareRowOut,
        GradingAnswer,
        GradingOut,
        GuideFrame,
        OptionsOut,
        PracticeOut,
        QuestionOut,
        QuestionsAnswer,
        SideEffectOut,
        SideEffectsAnswer,
        StatementOut,
        TermOut,
        TermsAnswer,
        TransplantAnswer,
        TransplantOut,
    )


def _statements(statements: tuple[Statement, ...]) -> list[StatementOut]:
    return [statement_json(s) for s in statements]


def _optional(statement: Statement | None) -> StatementOut | None:
    return None if statement is None else statement_json(statement)


def _frame(guide: Guide, labels: str | None = None) -> GuideFrame:
    """What follows a guide answer's body: the sources the guide has, its date, the
    disclaimer."""
    info = guide.info
    return {
        "sources": [source_json(s) for s in guide.sources.values()],
        "data": {
            "release": info.release,
            "updated": info.updated.isoformat(),
            "file": guide.origin,
        },
        "disclaimer": DISCLAIMER if labels is None else disclaimer(labels),
    }


def transplant_answer(guide: Guide, catalog: Catalog) -> TransplantAnswer:
    return {"version": VERSION, "transplant": transplant_json(guide, catalog), **_frame(guide)}


def side_effects_answer(guide: Guide, effects: tuple[SideEffect, ...]) -> SideEffectsAnswer:
    body = [side_effect_json(effect) for effect in effects]
    return {"version": VERSION, "side_effects": body, **_frame(guide)}


def grading_answer(guide: Guide, grading: Grading) -> GradingAnswer:
    return {"version": VERSION, "grading": grading_json(grading), **_frame(guide)}


def compare_answer(guide: Guide, therapies: list[Therapy], catalog: Catalog) -> CompareAnswer:
    """The therapies side by side, as one regulator authorises them (its labels named)."""
    authority = catalog.info.authority
    body = compare_json(therapies, guide, authority.id)
    return {
        "version": VERSION,
        "regulator": authority.id,
        "therapies": body,
        **_frame(guide, authority.labels),
    }


def terms_answer(guide: Guide, terms: tuple[Term, ...]) -> TermsAnswer:
    return {"version": VERSION, "terms": [term_json(t) for t in terms], **_frame(guide)}


def questions_answer(guide: Guide, topics: Collection[str] | None) -> QuestionsAnswer:
    return {"version": VERSION, "questions": questions_json(guide, topics), **_frame(guide)}


def transplant_json(guide: Guide, catalog: Catalog) -> TransplantOut:
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
        "questions": questions_json(guide, ("transplant",)),
    }


def side_effect_json(effect: SideEffect) -> SideEffectOut:
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


def grading_json(grading: Grading) -> GradingOut:
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
        "assumed": _optional(grading.assumed),
        "ungraded": _optional(grading.ungraded),
        "findings": [
            {
                "feature": f.feature.id,
                "label": f.feature.label,
                "value": plain(f.value),
                "grade": None if f.level is None else f.level.lowest,
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


def practice_json(practice: Practice | None) -> PracticeOut | None:
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


def compare_json(therapies: list[Therapy], guide: Guide, regulator: str) -> list[CompareRowOut]:
    rows: list[CompareRowOut] = []
    for therapy in therapies:
        practice = guide.practice_for(therapy.id, regulator)
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
    return rows


def term_json(term: Term) -> TermOut:
    return {
        "id": term.id,
        "term": term.term,
        "aliases": list(term.aliases),
        "text": term.text,
        "sources": list(term.source),
    }


def questions_json(guide: Guide, topics: Collection[str] | None) -> list[QuestionOut]:
    """The questions of these topics (None: every one)."""
    return [
        {"for": q.topic, "text": q.text, "sources": list(q.source)}
        for q in guide.questions
        if topics is None or q.topic in topics
    ]


def fitting_questions(
    answer: OptionsOut, catalog: Catalog, guide: Guide, for_child: bool = False
) -> list[str]:
    """The questions to ask that fit one patient's answer: the general ones, those about each
    therapy that could be given (and its groups: car-t), and about transplant where a
    referral is not ruled out; in a parent's words where the patient is a child."""
    fitting = {"general"}
    for option in answer["options"]:
        if option["status"] != "not_eligible":
            fitting |= {option["therapy"], *catalog.by_id(option["therapy"]).groups}
    if any(referral["status"] != "not_indicated" for referral in answer["referrals"]):
        fitting.add("transplant")
    return [q.asked(for_child) for q in guide.questions if q.topic in fitting]


def surely_child(facts: Facts) -> bool:
    """Whether the patient is surely under 18 (completed years), for the page's voice."""
    years = facts.rule_values().get("age_years")
    most = years.high if isinstance(years, Counted) else years
    return isinstance(most, int) and most < 18
