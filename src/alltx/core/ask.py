"""`alltx ask`: the facts asked one at a time, each time the one that would decide the most
answers still open (the rules know which facts a `possible` answer waits for), so nobody is
asked a question that cannot change anything. Pure: the command does the asking."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from alltx.core.assess import ReferralResult, TherapyOption, assess, referrals
from alltx.core.facts import FACTS, PARSERS, FactError, facts_from, parse_fact
from alltx.model.catalog import Catalog

# What a person types when they don't know (the curly apostrophe is how phones type it).
DONT_KNOW = {"?", "", "dont know", "don't know", "don\u2019t know", "not sure", "unknown", "skip"}
DONE = {"done", "stop", "that's all", "no more"}


def next_fact(answers: Iterable[TherapyOption | ReferralResult], asked: set[str]) -> str | None:
    """The fact not asked yet that the most `possible` answers wait for (ties in the order
    facts are listed); None when no answer is open on a fact not asked."""
    waiting = Counter(name for answer in answers if answer.status == "possible"
                      for name in answer.missing if name not in asked)  # fmt: skip
    if not waiting:
        return None
    order = list(PARSERS)
    return max(waiting, key=lambda name: (waiting[name], -order.index(name)))


def _switch(name: str) -> tuple[str, str] | None:
    """A yes/no fact's two flags (`--relapsed`, `--not-relapsed`), or None."""
    fact = FACTS[name]
    return (fact.flag, fact.negative) if fact.negative else None


def question(name: str) -> str:
    """The question for a fact, in plain words, with how to answer it."""
    fact = FACTS[name]
    flag, _, values = fact.how.partition(" ")
    how = "yes or no" if _switch(name) else values.replace(f"{flag} ", "").replace("|", " or ")
    return f"{fact.label[0].upper()}{fact.label[1:]}? ({how}; ? if you don't know)"


def command_line(given: Mapping[str, object]) -> str:
    """The `alltx options` command that gives the same answer: the facts as flags."""
    words = ["alltx", "options"]
    for name, value in given.items():
        switch = _switch(name)
        if switch:
            words.append(switch[0] if value else switch[1])
        else:
            words += [FACTS[name].flag, shlex.quote(str(value))]
    return " ".join(words)


def interview(
    catalog: Catalog, prompt: Callable[[str], str], say: Callable[[str], object]
) -> dict[str, object]:
    """Ask until no open answer waits on a fact not asked yet, or the person is done (`done`,
    or end of input: EOFError); the facts given, as typed (yes/no as True/False). A reply the
    parser refuses, or one that contradicts an earlier answer, is explained and asked again."""
    given: dict[str, object] = {}
    asked: set[str] = set()
    while True:
        facts = facts_from(given)
        name = next_fact([*assess(facts, catalog), *referrals(facts, catalog)], asked)
        if name is None:
            return given
        try:
            reply = prompt(question(name)).strip()
        except EOFError:  # Ctrl-D: no more answers
            return given
        if reply.lower() in DONE:
            return given
        asked.add(name)
        if reply.lower() in DONT_KNOW:
            continue
        try:
            value = parse_fact(name, reply)
            facts_from({**given, name: reply})  # refused if it contradicts an earlier answer
        except FactError as error:
            say(f"  {error}. Answer again, or ? if you don't know.")
            asked.discard(name)
            continue
        given[name] = value if isinstance(value, bool) else reply
