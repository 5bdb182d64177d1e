"""`alltx ask`: the facts asked one at a time, each time the one that would decide the most
answers still open (the rules know which facts a `possible` answer waits for), so nobody is
asked a question that cannot change anything. Pure: the command does the asking."""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from alltx.assessment.assess import ReferralResult, TherapyOption, assess, referrals
from alltx.core.facts import FACTS, PARSERS, FactError, facts_from, parse_fact
from alltx.model.catalog import Catalog

# What a person types when they don't know (replies are read with a straight apostrophe: the
# curly one is how phones type it).
DONT_KNOW = {"?", "", "dont know", "don't know", "i don't know", "i dont know", "idk", "not sure",
             "unsure", "no idea", "dunno", "unknown", "skip", "not known", "no clue",
             "don't know yet", "we don't know", "we dont know", "i'm not sure", "im not sure",
             "haven't been told", "not told"}  # fmt: skip
DONE = {"done", "stop", "that's all", "no more"}

# Yes and no as people say them; the first word of a reply decides (`yes, in May`).
YES = {"yes", "y", "yeah", "yep", "yup", "ya", "sure", "correct", "right", "true", "it has",
       "she has", "he has", "they have", "it is", "she is", "he is", "positive"}  # fmt: skip
NO = {"no", "n", "nope", "nah", "not", "false", "never", "negative"}
# Counts and ordinals in words: `twice`, `second`, `2nd` (relapse 2), `never` (0).
NUMBER_WORDS = {"none": 0, "never": 0, "zero": 0, "no": 0, "once": 1, "one": 1, "first": 1,
                "twice": 2, "two": 2, "second": 2, "thrice": 3, "three": 3, "third": 3,
                "four": 4, "fourth": 4, "five": 5, "fifth": 5}  # fmt: skip
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)(?:st|nd|rd|th)?")
TIMES = {"week", "weeks", "day", "days", "month", "months", "year", "years", "ago"}
# An age in a sentence: `she's 19`, `19 years old`, `8 months`, `8mo`, `3 weeks`, `10 days`; a
# number followed by any other word is not read as years: asked again.
_AGE = re.compile(r"(\d+(?:\.\d+)?)([a-z/]*)")
_YEARS = {"", "year", "years", "yr", "yrs", "y", "yo", "y/o", "old", "now"}
_MONTHS = {"month", "months", "mo", "mos", "m"}
_DAYS = {
    "day": "d",
    "days": "d",
    "d": "d",
    "week": "w",
    "weeks": "w",
    "wk": "w",
    "wks": "w",
    "w": "w",
}


def _ages(said: str) -> list[str] | None:
    """Each age a reply names, as the parser takes it (19, 8m, 3w); None if a number in it has
    a unit alltx does not read as an age here, or is days or weeks not whole."""
    words = said.replace("'s ", " is ").split()
    ages = []
    for number, word in enumerate(words):
        found = _AGE.fullmatch(word)
        if not found:
            continue
        figure, unit = found.groups()
        if not unit and number + 1 < len(words):
            unit = words[number + 1]
        if unit in _MONTHS:
            ages.append(f"{figure}m")
        elif unit in _YEARS:
            ages.append(figure)
        elif unit in _DAYS and figure.isdigit():
            ages.append(f"{figure}{_DAYS[unit]}")
        else:
            return None
    return ages


class NotUnderstood(ValueError):
    """A reply alltx cannot read; its message says, in the question's words, what to type."""


def _said(reply: str) -> str:
    """A reply as compared with the words above: lower case, straight apostrophes, no
    surrounding punctuation (`Yes!`, `idk.`)."""
    return " ".join(reply.replace("\u2019", "'").lower().strip(" .,!;:").split())


def dont_know(reply: str) -> bool:
    return _said(reply) in DONT_KNOW


def understood(name: str, reply: str) -> str | bool:
    """A reply in a person's own words as the fact's parser takes it: `she's 19` -> 19,
    `8 months` -> 8m, `came back twice` -> 2, `yes` -> True (or `positive` for a marker).
    Raises NotUnderstood, in the question's words, for a reply it cannot read."""
    fact, said = FACTS[name], _said(reply)
    words = said.split()
    if fact.form == "bool":
        if said in YES or (words and words[0] in YES):
            return True
        if said in NO or (words and words[0] in NO):
            return False
    elif fact.form == "category" and "positive" in fact.spellings:
        if said in YES or (words and words[0] in YES):
            return "positive"
        if said in NO or (words and words[0] in NO):
            return "negative"
    elif fact.form == "count" and not TIMES & set(words):  # `2 weeks ago` is no count
        # a figure alone (`2`, `2nd`, `2 times`), or number words anywhere (`came back twice`)
        alone = len(words) == 1 or (len(words) == 2 and words[1] in ("times", "time"))
        numbers = {str(NUMBER_WORDS[word]) for word in words if word in NUMBER_WORDS}
        if alone and (found := _NUMBER.fullmatch(words[0])):
            numbers.add(found.group(1))
        if len(numbers) == 1:  # `2 or 3` is not one answer: asked again
            return numbers.pop()
    elif fact.form == "age" and "half" not in said:  # `1 and a half`: asked again, as 18 months
        ages = _ages(said)
        if ages is not None and len(ages) == 1:  # `1 year 6 months` is the parser's (below)
            return ages[0]
    try:  # the parser's own spellings: b-cell, B-ALL, pos, 0.5
        parse_fact(name, reply)
    except FactError:
        raise NotUnderstood(f"that answer was not understood; {_wanted(name)}") from None
    return reply


def _wanted(name: str) -> str:
    """What a question takes, in its own words."""
    fact = FACTS[name]
    if fact.form == "bool":
        return "answer yes or no"
    if fact.form == "count":
        return "answer with a number, such as 0, 1 or 2 (once, twice or second work too)"
    if fact.form == "age":
        return (
            "answer with one number: the age in years, such as 19, or in months, such as "
            "8 months (or whole weeks or days, such as 3 weeks)"
        )
    if fact.form == "percent":
        return "answer with the percent the test found, such as 0.5"
    if "positive" in fact.spellings:
        return "answer positive or negative (yes or no work too)"
    return "answer one of: " + ", ".join(fact.metavar.split("|"))


def next_fact(answers: Iterable[TherapyOption | ReferralResult], asked: set[str]) -> str | None:
    """The fact not asked yet that the most `possible` answers wait for (ties in the order
    facts are listed); None when no answer is open on a fact not asked. An open point of the
    sources (facts.READING) is no question: no reply settles it."""
    order = list(PARSERS)
    waiting = Counter(
        name
        for answer in answers
        if answer.status == "possible"
        for name in answer.missing
        if name not in asked and name in order
    )
    if not waiting:
        return None
    return max(waiting, key=lambda name: (waiting[name], -order.index(name)))


def _switch(name: str) -> tuple[str, str] | None:
    """A yes/no fact's two flags (`--relapsed`, `--not-relapsed`), or None."""
    fact = FACTS[name]
    return (fact.flag, fact.negative) if fact.negative else None


# How each form of fact is answered, in a question's words (not a flag's: `N`, `YEARS`).
HOW = {"bool": "yes or no", "count": "a number, such as 1 or 2",
       "age": "in years, such as 19, or months, such as 8 months",
       "percent": "a percent, such as 0.5"}  # fmt: skip


# Each fact asked as a parent would be asked it: the plain words first, the clinic's word
# after, where it helps to know it; never a drug's name. The same meaning as the fact's label
# (alltx.core.facts), which the answer and the flags' help use; a test keeps one for each.
QUESTIONS = {
    "age": "How old is the patient?",
    "relapsed": "Has the leukemia come back now, after treatment (relapsed)?",
    "relapse": "How many times has the leukemia come back (relapsed)? 1 is the first time",
    # Worded so that no first relapse fits it (see facts._REFRACTORY): a first relapse taken
    # for refractory would meet a label it does not meet.
    "refractory": "Has treatment failed to bring a remission: the leukemia never responded, "
                  "or did not respond to the treatment for a relapse (refractory)? A leukemia "
                  "that went into remission and came back is a relapse, not this",
    "remission": "Is the patient in complete remission now, and which one? 1 for the first "
                 "(CR1), 2 for the second",
    "lineage": "Which kind of ALL is it: B-cell precursor or T-cell?",
    "cd19": "Do the leukemia cells carry CD19, a protein some treatments aim at?",
    "cd22": "Do the leukemia cells carry CD22, a protein some treatments aim at?",
    "ph": "Is the Philadelphia chromosome there (Ph-positive, a gene change in some "
          "leukemias)?",
    "mrd": "What did the last MRD test find, in percent (minimal residual disease: leukemia "
           "cells left that only sensitive tests find)?",
    "phase": "Which phase of chemotherapy is the patient in now?",
    "prior_transplant": "Has the patient had a stem-cell transplant from a donor "
                        "(allogeneic)?",
    "prior_autologous_transplant": "Has the patient had a stem-cell transplant of their own "
                                   "cells (autologous)?",
    "induction_failure": "Did the first chemotherapy fail to bring a remission within 28 days "
                         "of starting it (induction failure)?",
    "high_risk": "Has the care team said the leukemia has a high risk of coming back?",
    "age_at_diagnosis": "How old was the patient when the leukemia was diagnosed?",
    "newly_diagnosed": "Is this the first treatment since the diagnosis, with no relapse so "
                       "far (newly diagnosed)?",
    "relapse_after_transplant": "Has the leukemia come back now, after a stem-cell "
                                "transplant from a donor?",
    "high_risk_first_relapse": "Is this a first relapse that the care team calls high risk?",
    "prior_therapies": "How many lines of treatment has the patient had before now?",
    "tkis_failed": "How many TKI treatments (tyrosine kinase inhibitors) has the leukemia "
                   "failed?",
    "no_alternative": "Has the care team said there are no other treatment options?",
}  # fmt: skip


def question(name: str) -> str:
    """The question for a fact, in plain words, with how to answer it."""
    fact = FACTS[name]
    how = HOW.get(fact.form) or fact.metavar.replace("|", " or ")
    if fact.form == "category" and "positive" in fact.spellings:
        how = "yes or no"  # a marker: yes is positive (understood)
    return f"{QUESTIONS[name]} ({how}; ? if you don't know)"


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
        if dont_know(reply):
            continue
        try:
            value = understood(name, reply)
            facts_from({**given, name: value})  # refused if it contradicts an earlier answer
        except (NotUnderstood, FactError) as error:
            say(f"  {str(error)[0].upper()}{str(error)[1:]}. Answer again, or ? if you don't know.")
            asked.discard(name)
            continue
        given[name] = value
