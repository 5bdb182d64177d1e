"""Assessing a patient against the catalog: each therapy's status, reasons and cautions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alltx.core.deciding import deciding, open_points
from alltx.core.facts import Facts
from alltx.core.rules import (
    MET,
    UNKNOWN,
    UNMET,
    Advice,
    Evaluation,
    Node,
    Status,
    evaluate,
)
from alltx.model.catalog import Catalog, Caution, Indication, Referral, Therapy

STATUSES: tuple[Status, ...] = ("eligible", "possible", "not_eligible")
ADVICE: dict[str, Advice] = {MET: "recommended", UNKNOWN: "possible", UNMET: "not_indicated"}
# How a rule is evaluated: rules.evaluate, or a batch's memo of it (same answers, reused).
Evaluate = Callable[[Node, Mapping[str, object]], Evaluation]


@dataclass(frozen=True)
class IndicationResult:
    indication: Indication
    evaluation: Evaluation


@dataclass(frozen=True)
class TherapyOption:
    therapy: Therapy
    status: Status
    indications: tuple[IndicationResult, ...]
    missing: tuple[str, ...]  # input facts that would decide a `possible` therapy
    cautions: tuple[str, ...]
    # The cautions that apply (their condition is met): shown with the status, since a caution
    # that applies is easy to miss below an ELIGIBLE.
    applying: tuple[Caution, ...] = ()
    # The open points of the sources that alone keep a `possible` open, in words: said with
    # the status (an open reading of an indication's words, labels.md H8, H22).
    open: tuple[str, ...] = ()

    @property
    def cautions_apply(self) -> tuple[str, ...]:
        """The conditions of the cautions that apply, in plain words."""
        return tuple(c.rule.text for c in self.applying if c.rule is not None)


@dataclass(frozen=True)
class ReferralResult:
    referral: Referral
    status: Advice
    evaluation: Evaluation
    missing: tuple[str, ...]  # input facts that would decide a `possible` referral
    open: tuple[str, ...] = ()  # the open points that alone keep it `possible`, in words


def refer(
    referral: Referral, values: dict[str, object], evaluate: Evaluate = evaluate
) -> ReferralResult:
    """Whether the data's reasons for a referral apply: any reason met is `recommended`."""
    evaluation = evaluate(referral.rule, values)
    if evaluation.result != UNKNOWN:
        return ReferralResult(referral, ADVICE[evaluation.result], evaluation, ())
    rules = (referral.rule,)
    points = tuple(atom.text for atom in open_points(rules, values))
    return ReferralResult(referral, "possible", evaluation, deciding(rules, values), points)


def referrals(facts: Facts, catalog: Catalog) -> list[ReferralResult]:
    values = facts.rule_values()
    return [refer(referral, values) for referral in catalog.referrals]


def assess(facts: Facts, catalog: Catalog) -> list[TherapyOption]:
    """Every therapy in the catalog, in its order, with its status for these facts."""
    values = facts.rule_values()
    return [assess_therapy(therapy, values) for therapy in catalog.therapies]


def assess_therapy(
    therapy: Therapy, values: dict[str, object], evaluate: Evaluate = evaluate
) -> TherapyOption:
    """One therapy for one patient's rule values (see Facts.rule_values)."""
    results = tuple(IndicationResult(i, evaluate(i.rule, values)) for i in therapy.indications)
    outcomes = {r.evaluation.result for r in results}
    status: Status
    missing: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    if MET in outcomes:
        status, missing = "eligible", ()
    elif UNKNOWN in outcomes:
        status = "possible"
        rules = tuple(i.rule for i in therapy.indications)
        missing = deciding(rules, values)
        points = tuple(atom.text for atom in open_points(rules, values))
    else:
        status, missing = "not_eligible", ()
    # Cautions are for therapies that could be given; a ruled-out one needs none.
    if status == "not_eligible":
        return TherapyOption(therapy, status, results, missing, ())
    cautions, applying = _cautions(therapy, values, evaluate)
    return TherapyOption(therapy, status, results, missing, cautions, applying, points)


def _cautions(
    therapy: Therapy, values: dict[str, object], evaluate: Evaluate
) -> tuple[tuple[str, ...], tuple[Caution, ...]]:
    """The cautions to show (one whose condition is unknown as `If ...`), and those that apply
    to this patient."""
    shown: list[str] = []
    applying: list[Caution] = []
    for caution in therapy.cautions:
        if caution.rule is None:
            shown.append(caution.text)
            continue
        result = evaluate(caution.rule, values).result
        if result == MET:
            shown.append(caution.text)
            applying.append(caution)
        elif result == UNKNOWN:
            shown.append(caution.said)
    return tuple(shown), tuple(applying)
