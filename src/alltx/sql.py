"""The label rules compiled to one SQL query, for a cohort that lives in a database.

The rules' logic is three-valued, and so is SQL's: an unknown fact is NULL, `NULL AND FALSE` is
FALSE and `NULL OR TRUE` is TRUE, exactly as `rules.combine` has it. So each test becomes one
SQL comparison, each group an AND or an OR, and the query returns, per row, the compact record
of `alltx options --format csv` (less `line`: a table has none). Nothing here runs a query; the
DuckDB engine (`alltx.batch.duckdb_engine`) and the user's own warehouse do.

The query reads each value as typed or as text with the spellings the flags take (from the
facts' own declarations: `_reading`), applies the derivations of `facts.derive` and refuses the
same contradictions and impossible values, in an `error` column. Numbers are read as binary
floating point, as a JSON number is read by the Python path; each bound is compiled to the
floating-point threshold that gives the Python path's exact (decimal) comparison, so a
completed month (`age_months`) needs no arithmetic and no rounding in the engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import cast

from alltx.core import deciding
from alltx.core.facts import (
    AGE_PAIRS,
    AGE_UNITS,
    BIRTH_DATE,
    CYCLE,
    DATE_FIELDS,
    DATE_PATTERN,
    DATE_WANTS,
    DAY_UNITS,
    FACTS,
    FEWER,
    FIELDS,
    IMPLICATIONS,
    MARKER_SEPARATORS,
    MAX_AGE_DAYS,
    MAX_AGE_YEARS,
    MAX_COUNT,
    MORE,
    MRD_FORMS,
    NOT_AFTER,
    READING,
    RULE_FACTS,
    SHOWN_CHARACTERS,
    SPACE,
    STATE,
    WRITTEN_UNITS,
    Fact,
    Implication,
    NotAfter,
    month_days,
    text_pattern,
    unknown_pattern,
    wants,
    written_prefix,
    written_words,
)
from alltx.core.rules import MET, Atom, Node, atom_result, atoms
from alltx.model.catalog import Catalog


@dataclass(frozen=True)
class Dialect:
    """What differs between the engines the query is written for."""

    name: str
    double: str  # the type a number is read as
    text: str
    boolean: str
    integer: str
    quote: str  # around a column name
    typed: bool = True  # False (SQLite): a column holds any kind of value, so check each
    # SQLite and PostgreSQL fold a CTE into the query that reads it, repeating each test's
    # expression at every use (15 to 60 times slower); MATERIALIZED computes each once.
    # DuckDB finds the common expressions itself (the same time either way over 10,000,000
    # rows), and Spark has no such keyword.
    materialized: str = "MATERIALIZED "
    # The rows with their keys (_Keyed) are read once per therapy and referral: computed once
    # in every engine that can be told so (DuckDB too: inlined, the query took 9.1 s over
    # 1,000,000 rows where materialized it took 3.6, when first measured).
    reused: str = "MATERIALIZED "
    # Lists by keys (_Keyed): not in SQLite, whose joins on a computed table loop over it
    # for each row (a 491,392-row grid took over 15 minutes where each row's lists take 25 s).
    keyed: bool = True
    concat_ws: bool = True  # SQLite has CONCAT_WS only from 3.44
    # How each engine tells a value's type (a column's; SQLite: each value's), and its names
    # for text, numbers and booleans.
    type_of: str = "typeof({})"
    texts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    decimal: str = ""  # the start of a fixed-point type's name (DECIMAL(18,3))
    number: str = "TRY_CAST({} AS DOUBLE)"  # a value of a number type, as a double
    boolean_of: str = "TRY_CAST({} AS BOOLEAN)"  # a value of the boolean type
    matches: str = "regexp_matches({}, {})"  # a text matches a regular expression
    trim: str = "TRIM({}, {})"  # a text without these characters at either end
    backslashes: bool = False  # Spark reads a backslash in a string literal as an escape
    find: str = "INSTR({}, {})"  # where a text first holds another (1 on), 0 where it does not
    dates: tuple[str, ...] = ()  # its names of the date type (SQLite has none: text)
    # The whole part of a number (at least 0, or a little under: see _after). SQLite has FLOOR
    # only in some builds; its CAST to INTEGER cuts toward 0, which is the floor from 0 up.
    floor: str = "FLOOR({})"
    # Whether the engine can read a table by its columns' names, filling those it lacks with
    # NULL (DuckDB's UNION ALL BY NAME): a table named without --columns may then lack facts.
    by_name: bool = False

    def name_of(self, column: str) -> str:
        """A column name as an identifier: quoted, its own quote characters doubled (the
        names come from the data file's ids, which --data can change)."""
        quote = self.quote
        return f"{quote}{column.replace(quote, quote * 2)}{quote}"

    def cast(self, expression: str, kind: str) -> str:
        if not self.typed:  # SQLite's CAST turns 'abc' into 0: check the kind instead
            return expression
        return f"CAST({expression} AS {getattr(self, kind)})"

    def is_type(self, expression: str, names: tuple[str, ...], prefix: str = "") -> str:
        typed = self.type_of.format(expression)
        test = f"{typed} IN ({', '.join(literal(n) for n in names)})" if names else "FALSE"
        return f"({test} OR {typed} LIKE {literal(prefix + '%')})" if prefix else test

    def text_literal(self, text: str) -> str:
        return literal(text.replace("\\", "\\\\") if self.backslashes else text)


_DUCKDB_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                   "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE")  # fmt: skip
DIALECTS = {
    d.name: d
    for d in (
        Dialect("duckdb", "DOUBLE", "VARCHAR", "BOOLEAN", "BIGINT", '"', materialized="",
                texts=("VARCHAR",), numbers=_DUCKDB_NUMBERS,
                booleans=("BOOLEAN",), decimal="DECIMAL", dates=("DATE",), by_name=True),
        Dialect("postgres", "DOUBLE PRECISION", "TEXT", "BOOLEAN", "BIGINT", '"',
                type_of="CAST(pg_typeof({}) AS TEXT)",
                texts=("text", "character varying", "character"),
                numbers=("smallint", "integer", "bigint", "real", "double precision", "numeric"),
                booleans=("boolean",), dates=("date",),
                # through text: a cast from boolean to double is refused before any row is read
                number="CAST(CAST({} AS TEXT) AS DOUBLE PRECISION)",
                boolean_of="CAST(CAST({} AS TEXT) AS BOOLEAN)",
                matches="({} ~ {})", trim="BTRIM({}, {})", find="STRPOS({}, {})"),
        # `quoted`: SQLite reads a "quoted" name that is no column as a string, so a column the
        # table lacks would be the text 'relapsed' in every row, not the error it is elsewhere
        Dialect("sqlite", "REAL", "TEXT", "INTEGER", "INTEGER", "`", typed=False,
                concat_ws=False, keyed=False, texts=("text",), numbers=("integer", "real"),
                number="CAST({} AS REAL)", boolean_of="{}", floor="CAST({} AS INTEGER)",
                # REGEXP: the sqlite3 shell's own (its regexp extension); in Python's sqlite3,
                # create_function("regexp", 2, ...)
                matches="({} REGEXP {})"),
        Dialect("spark", "DOUBLE", "STRING", "BOOLEAN", "BIGINT", "`", materialized="", reused="",
                texts=("string",),
                numbers=("tinyint", "smallint", "int", "bigint", "float", "double"),
                booleans=("boolean",), decimal="decimal", matches="({} RLIKE {})", dates=("date",),
                trim="TRIM(BOTH {1} FROM {0})", backslashes=True),
    )
}  # fmt: skip


# --- the input table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the input table: a fact, its kind of value, and what the query refuses."""

    name: str
    kind: str  # age (years), percent, count, bool, category
    values: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        """The type the table holds it as (a count is read as a number, so that a fraction is
        refused, not rounded)."""
        return {
            "age": "double",
            "percent": "double",
            "count": "integer",
            "bool": "boolean",
            "category": "text",
        }[self.kind]

    @property
    def read_as(self) -> str:
        return "double" if self.kind == "count" else self.sql_type


def table_columns() -> list[Column]:
    """The input table's fact columns, in the facts' order, from the facts' declarations."""
    return [Column(fact.name, fact.form, fact.values) for fact in FACTS.values()]


def _reading(fact: Fact, dialect: Dialect, dated: bool = False) -> tuple[list[str], list[str]]:
    """How the query reads one fact's column, from the fact's declaration (the parser's own
    spellings, pattern and units, alltx.core.facts): first the value as written, where it is text
    (w_), else as its type gives it (v_, NULL where the type is not the fact's); then the
    fact's value, and whether a value was given that is not one (bad_). Text is read as the
    Python path reads a CSV cell, so `B-ALL` is `b` and `8m` is 8 months on every road; an age
    keeps the unit it was written in (its _per: 12 for months), so that completed months are
    compared exactly, with no division. `dated`: the age is the completed months from a birth
    date where the row gives one (`born_months`, _dates)."""
    name, column, form = fact.name, dialect.name_of(fact.name), fact.form
    is_text = dialect.is_type(column, dialect.texts)
    number = dialect.is_type(column, dialect.numbers, dialect.decimal)
    as_number = dialect.number.format(column)
    if form in ("age", "percent", "count"):
        typed = f"CASE WHEN {number} THEN {as_number} END"
    elif form == "bool":
        boolean = dialect.is_type(column, dialect.booleans)
        typed = (
            f"CASE WHEN {boolean} THEN {dialect.boolean_of.format(column)} "
            f"WHEN {number} AND {as_number} IN (0, 1) THEN {as_number} = 1 END"
        )
    else:
        typed = f"CAST(NULL AS {dialect.text})"
    first = [
        f"CASE WHEN {is_text} THEN CAST({column} AS {dialect.text}) END AS w_{name}",
        f"CASE WHEN NOT {is_text} THEN {typed} END AS v_{name}",
        f"({column} IS NOT NULL AND NOT {is_text} AND ({typed}) IS NULL) AS tbad_{name}",
    ]
    w = f"w_{name}"
    spaces = dialect.text_literal(SPACE)
    low = f"LOWER({dialect.trim.format(w, spaces)})"
    pattern = dialect.text_literal(text_pattern(fact))
    takes = dialect.matches.format(w, pattern)
    blank = _blank(w, dialect, name)
    value = _text_value(fact, dialect, low)
    read = f"CASE WHEN {w} IS NULL THEN v_{name} WHEN {takes} AND NOT {blank} THEN {value} END"
    if dated:
        read = f"COALESCE(born_months, {read})"
    then = [
        f"{read} AS {name}",
        f"(tbad_{name} OR ({w} IS NOT NULL AND NOT {takes})) AS bad_{name}",
        w,  # the text given, for the error's words
    ]
    if form == "age":  # the unit it was written in: months where a month's word ends it, 0
        # for days (or weeks: their value is in days), which are no exact number of months
        ends = _ends_in(low, WRITTEN_UNITS, 12)
        in_days = f"{w} IS NOT NULL AND NOT {blank} AND {_ends_in(low, DAY_UNITS)}"
        from_dates = "born_months IS NOT NULL OR " if dated else ""
        if dated:  # the birth date's months stand before a text age (which is then refused)
            in_days = f"born_months IS NULL AND {in_days}"
        then.append(
            f"CASE WHEN {in_days} THEN 0 WHEN {from_dates}{w} IS NOT NULL AND {ends} "
            f"THEN 12 ELSE 1 END AS {name}_per"
        )
        # from dates at a month's end, one month more by another count (facts.MonthEnd)
        then.append(f"{'born_end' if dated else 'FALSE'} AS {name}_end")
        if dated:  # given at all (an age beside a birth date is refused)
            then.append(
                f"(({w} IS NOT NULL AND NOT {blank}) OR v_{name} IS NOT NULL "
                f"OR tbad_{name}) AS given_{name}"
            )
    if form == "percent":  # a level a test cannot measure (facts.mrd_span): a Span's columns
        given = f"{w} IS NOT NULL AND {takes} AND {_is_span(low, dialect)}"
        level = dialect.trim.format(low, dialect.text_literal(_SPAN_LETTERS + SPACE))
        then += [
            f"COALESCE({given}, FALSE) AS {name}_span",
            f"CASE WHEN {given} AND {dialect.matches.format(low, literal('[0-9]'))} "
            f"THEN CAST({level} AS {dialect.double}) END AS {name}_high",
            f"COALESCE({given} AND {low} LIKE '%quantifiable', FALSE) AS {name}_open",
        ]
    return first, then


def _blank(text: str, dialect: Dialect, name: str) -> str:
    """Whether a text means unknown for this field, as a blank CSV cell does: empty or white
    space, or a spelling of "not known" (facts.unknown_pattern: the Python reader's own)."""
    return dialect.matches.format(text, dialect.text_literal(unknown_pattern(name)))


# What stands around a level in a Span's text (negative at 0.01%, <0.01%): trimmed off it, the
# letters of "negative at" with the signs.
_SPAN_LETTERS = "%,<aegintv"


def _is_span(low: str, dialect: Dialect) -> str:
    """Whether a percent's text (lower case, trimmed) is a level a test cannot measure."""
    forms = "|".join(f"({pattern})" for pattern in MRD_FORMS.values())
    return dialect.matches.format(low, dialect.text_literal(f"^({forms})$".replace("(?:", "(")))


def _span_test(op: str, bound: Fraction, column: str) -> str:
    """rules.Span.against in SQL, for a Span's columns (its low level is 0; open where the
    lab found some): NULL where its result is unknown."""
    if bound < 0:
        return literal(op == "at_least")
    if bound == 0:  # at 0: met by a Span from 0, unmet (at most 0) by one above it
        return (
            f"CASE WHEN NOT {column}_open THEN TRUE END"
            if op == "at_least"
            else f"CASE WHEN {column}_open THEN FALSE END"
        )
    under = f"{column}_high < {literal(lowest(bound, above=True))}"  # its level at most the bound
    return f"CASE WHEN {under} THEN {literal(op != 'at_least')} END"


def _dates(
    dialect: Dialect, has: Collection[str], as_of: date | None
) -> tuple[list[str], list[str], list[str], list[tuple[str, str]]]:
    """An age from a birth date (facts.dated_age), for a table with a date column: what the
    `written` step reads of the date columns, what the `dated` step makes of them (each date
    checked; the completed months from the birth date to as_of), what `given` carries on, and
    the checks, in the Python path's order and words. `as_of` is the day taken where a row
    gives none (None: the day the query runs)."""
    q, spaces = dialect.name_of, dialect.text_literal(SPACE)
    written: list[str] = []
    for name in DATE_FIELDS:
        if name not in has:
            written += [f"CAST(NULL AS {dialect.text}) AS x_{name}", f"FALSE AS xbad_{name}"]
            continue
        column = q(name)
        readable = dialect.is_type(column, dialect.texts + dialect.dates)
        written += [
            f"CASE WHEN {readable} THEN CAST({column} AS {dialect.text}) END AS x_{name}",
            f"({column} IS NOT NULL AND NOT {readable}) AS xbad_{name}",
        ]

    def blank(text: str) -> str:  # x_birth_date, x_as_of: the date field's own unknowns
        return f"({text} IS NULL OR {_blank(text, dialect, text.removeprefix('x_'))})"

    def trimmed(text: str) -> str:
        return dialect.trim.format(text, spaces)

    def part(text: str, start: int, length: int) -> str:
        return f"CAST(SUBSTR({text}, {start}, {length}) AS {dialect.integer})"

    def month_days(text: str) -> str:
        """The days of a valid date's month."""
        y, m = part(text, 1, 4), part(text, 6, 2)
        leap = f"({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))"
        return (
            f"CASE WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
            f"WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
        )

    def valid(text: str) -> str:
        """A date as parse_date takes it (its text trimmed): the form, then a day that is."""
        y, m, d = part(text, 1, 4), part(text, 6, 2), part(text, 9, 2)
        days = month_days(text)
        form = dialect.matches.format(text, dialect.text_literal(DATE_PATTERN))
        # the form first, in a CASE: no engine casts the parts of a text that is not a date
        return (
            f"(CASE WHEN {form} THEN {y} >= 1 AND {m} BETWEEN 1 AND 12 "
            f"AND {d} BETWEEN 1 AND {days} ELSE FALSE END)"
        )

    def months(text: str) -> str:
        return f"({part(text, 1, 4)} * 12 + {part(text, 6, 2)})"

    born = trimmed("x_birth_date")
    default = literal(as_of.isoformat()) if as_of else f"CAST(CURRENT_DATE AS {dialect.text})"
    at = f"(CASE WHEN {blank('x_as_of')} THEN {default} ELSE {trimmed('x_as_of')} END)"
    later_day = f"CASE WHEN {part(at, 9, 2)} < {part(born, 9, 2)} THEN 1 ELSE 0 END"
    dated = [
        f"(xbad_{name} OR NOT ({blank(f'x_{name}')} OR {valid(trimmed(f'x_{name}'))})) "
        f"AS bad_{name}"
        for name in DATE_FIELDS
    ]
    both_valid = f"NOT {blank('x_birth_date')} AND {valid(born)} AND {valid(at)}"
    completed = f"{months(at)} - {months(born)} - ({later_day})"
    # facts.Dated.month_end: the birth day's number past the end of as_of's month, and as_of
    # that month's last day, or in the first month 28 days or more after birth (as_of is then
    # in the month after the birth's, so the days are those left of it and as_of's day)
    born_day, at_day = part(born, 9, 2), part(at, 9, 2)
    first_days = f"{month_days(born)} - {born_day} + {at_day}"
    month_end = (
        f"{born_day} > {month_days(at)} AND ({at_day} = {month_days(at)} "
        f"OR ({completed} = 0 AND {first_days} >= 28))"
    )
    dated += [
        f"{at} AS at_text",
        f"(xbad_{BIRTH_DATE} OR NOT {blank('x_birth_date')}) AS born_given",
        f"CASE WHEN {both_valid} THEN {completed} END AS born_months",
        f"COALESCE(CASE WHEN {both_valid} THEN {month_end} END, FALSE) AS born_end",
    ]
    carried = [f"{column}_{name}" for column in ("bad", "x", "xbad") for name in DATE_FIELDS]
    carried += ["at_text", "born_given", "born_months", "born_end"]
    # date_refusal's words, with the text given; then dated_age's, with the day
    checks = [(f"bad_{name}", _refused(name, DATE_WANTS, f"x_{name}")) for name in DATE_FIELDS]
    born_is = f"{BIRTH_DATE}: the birth date is "
    checks += [
        (
            "born_given AND given_age",
            literal(f"{BIRTH_DATE}: give the age or the birth date, not both"),
        ),
        ("born_months < 0", _with_day(born_is + "after the as-of date")),
        (
            f"born_months > {MAX_AGE_YEARS * 12}",
            _with_day(f"{born_is}more than {MAX_AGE_YEARS} years before the as-of date"),
        ),
    ]
    return written, dated, carried, checks


def _refused(name: str, wants: str, raw: str) -> str:
    """A refusal in facts.refusal's words: the field, what it must be, and the text given
    (`raw`, NULL where the value was not text), cut as the Python path cuts it."""
    most, quote = SHOWN_CHARACTERS, literal("'")
    shown = (
        f"CASE WHEN LENGTH({raw}) > {most} THEN SUBSTR({raw}, 1, {most}) || '...' ELSE {raw} END"
    )
    said = literal(f"{name}: {wants}")
    return f"{said} || COALESCE({literal('; got ')} || {quote} || {shown} || {quote}, '')"


def _with_day(words: str) -> str:
    """dated_age's words for two dates out of order, with the as-of day."""
    return f"{literal(words + ' (')} || at_text || {literal('); check both')}"


def _text_value(fact: Fact, dialect: Dialect, low: str) -> str:
    """A fact's value from its text (lower case, trimmed), which its pattern takes."""
    words = written_words(fact)
    prefix = written_prefix(fact)

    def word(text: str) -> str:
        cases = " ".join(f"WHEN {literal(w)} THEN {literal(v)}" for w, v in words.items())
        return f"CASE {text} {cases} END"

    # the name written before the value (CD19+, CR2): where it is there, the rest after it
    named = f"SUBSTR({low}, 1, {len(prefix)}) = {literal(prefix)}"
    after = f"SUBSTR({low}, {len(prefix) + 1})"
    spaces = dialect.text_literal(SPACE)
    if fact.form in ("bool", "category"):
        if not prefix:
            return word(low)
        rest = dialect.trim.format(after, dialect.text_literal(MARKER_SEPARATORS))
        # CD19- leaves nothing once the separators are gone: its result is the "-"
        result = f"COALESCE(NULLIF({rest}, {literal('')}), {literal('-')})"
        return f"CASE WHEN {named} THEN {word(result)} ELSE {word(low)} END"
    if fact.form == "count":
        digits = low
        if prefix:
            digits = f"CASE WHEN {named} THEN {dialect.trim.format(after, spaces)} ELSE {low} END"
        return f"CAST({digits} AS {dialect.double})"
    if fact.form == "percent":
        number = dialect.trim.format(f"REPLACE({low}, '%', '')", spaces)
        exact = f"CAST({number} AS {dialect.double})"
        return f"CASE WHEN {_is_span(low, dialect)} THEN NULL ELSE {exact} END"
    else:  # an age: the number before its unit
        letters = literal("".join(sorted(set("".join([*WRITTEN_UNITS, *DAY_UNITS])))))
        number = dialect.trim.format(dialect.trim.format(low, letters), spaces)
        # 25y11m (its pattern took it): the years before the y, the months after its word,
        # in months (its _per is 12: a month's word ends it)
        y = dialect.find.format(low, literal("y"))
        years = dialect.trim.format(f"SUBSTR({low}, 1, {y} - 1)", spaces)
        months = dialect.trim.format(
            dialect.trim.format(f"SUBSTR({low}, {y} + 1)", letters), spaces
        )
        both = f"CAST({years} AS {dialect.double}) * 12 + CAST({months} AS {dialect.double})"
        # 3 weeks: in days (a day's word has a y too, so it is tested first)
        weeks = f"CAST({number} AS {dialect.double}) * 7"
        return (
            f"CASE WHEN {_ends_in(low, DAY_UNITS, 7)} THEN {weeks} "
            f"WHEN {_ends_in(low, DAY_UNITS, 1)} THEN CAST({number} AS {dialect.double}) "
            f"WHEN {y} > 0 AND {_ends_in(low, WRITTEN_UNITS, 12)} THEN {both} "
            f"ELSE CAST({number} AS {dialect.double}) END"
        )
    return f"CAST({number} AS {dialect.double})"


def _ends_in(low: str, units: dict[str, int], per: int | None = None) -> str:
    """Whether an age's text (lower case, trimmed) ends in one of these units' words (of
    those that many to the next unit, where `per` is given: 12 for months, 7 for weeks)."""
    words = [u for u, many in units.items() if per is None or many == per]
    return "(" + " OR ".join(f"{low} LIKE {literal('%' + unit)}" for unit in words) + ")"


# --- thresholds ----------------------------------------------------------------------------


def _shown(number: float) -> Fraction:
    """The exact value the Python path gives a floating-point number: that of its shortest
    decimal form (what JSON writes and `facts._exact` reads)."""
    return Fraction(repr(number))


def lowest(bound: Fraction, above: bool = False) -> float:
    """The least float x whose exact value on the Python path is at least `bound` (above it,
    with `above`): `x >= lowest(b)` in the engine is the Python path's `x >= b`, and
    `x < lowest(b, above=True)` its `x <= b`. Floats and their shortest decimals are in the
    same order, so the floats that pass are all those from this one up."""

    def passes(x: float) -> bool:
        return _shown(x) > bound if above else _shown(x) >= bound

    x = float(bound)
    if passes(x):
        while passes(below := math.nextafter(x, -math.inf)):
            x = below
        return x
    while not passes(x):
        x = math.nextafter(x, math.inf)
    return x


def literal(value: object) -> str:
    """A value as an SQL literal: a string quoted, its quotes doubled."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# --- compiling the rules ---------------------------------------------------------------------

# The ages that must be in order (facts.NOT_AFTER), carried past the tests: the facts to decide
# check a chosen age against the row's.
_AGES = ", ".join(f"{age}, {age}_per, {age}_end" for age in
                  dict.fromkeys(rule.source for pair in AGE_PAIRS for rule in pair))  # fmt: skip


def _atom(atom: Atom) -> str:
    """One test as a SQL condition: NULL when its fact is NULL (unknown), or where a bound
    settles it (rules.result_of), that result."""
    fact = RULE_FACTS[atom.fact]
    if atom.fact == READING:  # an open point: unknown for every row (facts.READING)
        return "CAST(NULL AS BOOLEAN)"
    if fact.unit in AGE_UNITS:
        tested = _age(atom, fact.source, AGE_UNITS[fact.unit])
        bounded = _bounded(atom, AGE_UNITS[fact.unit])
        if bounded is None:
            return tested
        return f"CASE WHEN {fact.source} IS NULL THEN {bounded} ELSE {tested} END"
    column = atom.fact
    bound = atom.bound
    if atom.op == "is" and isinstance(bound, bool):
        return column if bound else f"NOT {column}"
    if atom.op == "is":
        return f"{column} = {literal(bound)}"
    if atom.op == "in":
        listed = ", ".join(literal(v) for v in bound)  # type: ignore[attr-defined]
        return f"{column} IN ({listed})"
    if isinstance(bound, Fraction):  # a percent: the float threshold of the exact bound
        if atom.op == "at_least":
            exact = f"{column} >= {literal(lowest(bound))}"
        else:
            exact = f"{column} < {literal(lowest(bound, above=True))}"
        span = _span_test(atom.op, bound, column)
        return f"CASE WHEN {column} IS NOT NULL THEN {exact} WHEN {column}_span THEN {span} END"
    return f"{column} {'>=' if atom.op == 'at_least' else '<='} {literal(bound)}"


def _threshold(column: str, years: Fraction) -> str:
    """The least value of an age's column that is at least `years` on the Python path, in
    the unit the age was written in (months: 12 times as many, with no division, so that
    8m is 8 completed months exactly)."""
    in_years, in_months = literal(lowest(years)), literal(lowest(years * 12))
    return f"CASE WHEN {column}_per = 12 THEN {in_months} ELSE {in_years} END"


def _age_at_least(column: str, years: Fraction) -> str:
    """Whether an age's column is at least `years` (a whole number of months): of an age in
    days, where every birth day gives the same answer (facts.month_days), else NULL."""
    months = int(years * 12)
    fewest, most = month_days(months)
    in_days = f"CASE WHEN {column} >= {most} THEN TRUE WHEN {column} < {fewest} THEN FALSE END"
    # An age given in whole years (its unit years, its value whole: facts.Years) is any month
    # of that year, so a bound within the year is open for it: 0 years and one month.
    within = (
        f"WHEN {column}_per = 1 AND {column} = {months // 12} THEN NULL " if months % 12 else ""
    )
    # An age from dates at a month's end is one month more by another count (facts.MonthEnd):
    # a bound at that month is open for it.
    if months:
        within += f"WHEN {column}_end AND {column} = {months - 1} THEN NULL "
    return (
        f"CASE WHEN {column}_per = 0 THEN {in_days} {within}"
        f"ELSE {column} >= {_threshold(column, years)} END"
    )


def _age_below(column: str, years: Fraction) -> str:
    return f"NOT {_age_at_least(column, years)}"


def _age(atom: Atom, column: str, per_year: int) -> str:
    """A test on completed years or months, as thresholds on the age in years: completed
    months >= k is age >= k/12 (exactly, as the Python path's fractions have it)."""

    def at_least(count: int) -> str:
        return _age_at_least(column, Fraction(count, per_year))

    def below(count: int) -> str:
        return _age_below(column, Fraction(count, per_year))

    bound = atom.bound
    if atom.op == "at_least":
        return at_least(bound)  # type: ignore[arg-type]
    if atom.op == "at_most":
        return below(bound + 1)  # type: ignore[operator]
    counts: tuple[int, ...] = bound if atom.op == "in" else (bound,)  # type: ignore[assignment]
    return "(" + " OR ".join(f"({at_least(c)} AND {below(c + 1)})" for c in counts) + ")"


def _bounded(atom: Atom, per_year: int) -> str | None:
    """rules.result_of for an unknown age, from the age that bounds it, as thresholds on that
    age's column: completed units >= k is age >= k / per_year. NULL where it settles nothing."""
    low = RULE_FACTS[atom.floor].source if atom.floor else None
    high = RULE_FACTS[atom.ceiling].source if atom.ceiling else None
    if low is None and high is None:
        return None

    def at_least(column: str, count: int) -> str:  # completed units of column >= count
        return _age_at_least(column, Fraction(count, per_year))

    def below(column: str, count: int) -> str:  # completed units of column < count
        return _age_below(column, Fraction(count, per_year))

    met: list[str] = []
    unmet: list[str] = []
    points: tuple[int, ...] = atom.bound if atom.op == "in" else (atom.bound,)  # type: ignore[assignment]
    if atom.op == "at_least":
        (bound,) = points
        met += [at_least(low, bound)] if low else []
        unmet += [below(high, bound)] if high else []
    elif atom.op == "at_most":
        (bound,) = points
        met += [below(high, bound + 1)] if high else []
        unmet += [at_least(low, bound + 1)] if low else []
    else:  # every point outside the bounds
        outside = [
            "("
            + " OR ".join(
                [*([at_least(low, p + 1)] if low else []), *([below(high, p)] if high else [])]
            )
            + ")"
            for p in points
        ]
        unmet.append(" AND ".join(outside))
    cases = [f"WHEN {' OR '.join(met)} THEN TRUE"] if met else []
    cases += [f"WHEN {' OR '.join(unmet)} THEN FALSE"] if unmet else []
    return "CASE " + " ".join(cases) + " END"


class _Compiled:
    """Every test of the catalog as a column (t0, t1 ...), then every group as a column
    (g0, g1 ...) over them: each is computed once per row, however often the answer's lists
    read it (an engine need not find the common expressions itself)."""

    def __init__(self, catalog: Catalog) -> None:
        self.tests: dict[Atom, str] = {}
        self.groups: dict[Node, str] = {}
        # Conditions on the row's ages themselves (the facts to decide keep a chosen age in
        # order with the row's: _ages_in_order), each a column (o0, o1 ...) like a test's, so
        # that the lists read only columns of a few values (_Keyed).
        self.orders: dict[str, str] = {}
        for rule in catalog.rules():
            for atom in atoms(rule):
                self.tests.setdefault(atom, f"t{len(self.tests)}")
            for group in _groups(rule):
                self.groups.setdefault(group, f"g{len(self.groups)}")

    def order(self, condition: str) -> str:
        """The column that holds a condition on the row's ages."""
        return self.orders.setdefault(condition, f"o{len(self.orders)}")

    def condition(self, node: Node) -> str:
        """The column that holds a node's result."""
        return self.tests[node] if isinstance(node, Atom) else self.groups[node]

    def definition(self, node: Node) -> str:
        """A group's result from its tests' columns (Kleene logic: SQL's AND and OR)."""
        if isinstance(node, Atom):
            return self.tests[node]
        joiner = " AND " if node.mode == "all" else " OR "
        return "(" + joiner.join(self.definition(child) for child in node.children) + ")"


def _groups(node: Node) -> list[Node]:
    if isinstance(node, Atom):
        return []
    return [node, *(group for child in node.children for group in _groups(child))]


def _paths(node: Node, above: tuple[Node, ...] = ()) -> list[tuple[Atom, tuple[Node, ...]]]:
    """Each test below `node`, in order, with the nodes from the root down to it."""
    path = (*above, node)
    if isinstance(node, Atom):
        return [(node, path)]
    return [found for child in node.children for found in _paths(child, path)]


def _ids(dialect: Dialect, status: str, pieces: Sequence[tuple[str, str]]) -> str:
    """When `status` holds, a space-separated list of ids in order, each shown when its
    condition holds; else, or for none, NULL (an empty cell). The list is built only for the
    rows whose status shows it. Over a table, once per distinct combination of what it reads
    (_Keyed), where the engine can join; per row in SQLite."""
    if not pieces:
        return "CAST(NULL AS {text})"
    if dialect.concat_ws:  # one call that skips NULLs: a third faster than || in DuckDB
        shown = ", ".join(f"CASE WHEN {when} THEN {literal(name)} END" for when, name in pieces)
        listed = f"CONCAT_WS(' ', {shown})"
    else:
        shown = " || ".join(
            f"CASE WHEN {when} THEN {literal(' ' + name)} ELSE '' END" for when, name in pieces
        )
        listed = f"SUBSTR({shown}, 2)"
    return f"CASE WHEN {status} THEN NULLIF({listed}, '') END"


def _all(conditions: Sequence[str]) -> str:
    return " AND ".join(conditions) if conditions else "TRUE"


def _deciding(compiled: _Compiled, roots: Sequence[Node]) -> list[tuple[str, str]]:
    """The facts that would decide, as `alltx.core.deciding` finds them: each fact, in the order the
    rules test it, when one of its witnesses holds for the row (see that module)."""
    rules = deciding.plan(tuple(roots))
    tests: dict[str, list[str]] = {}
    for branch in rules.branches:
        for test in branch.tests:
            column = compiled.tests[test]
            found = tests.setdefault(RULE_FACTS[test.fact].source, [])
            if column not in found:
                found.append(column)
    # A fact is open while any test on it is (a bound may settle some of them).
    unknown = {s: "(" + " OR ".join(f"{c} IS NULL" for c in cs) + ")" for s, cs in tests.items()}
    by_fact: dict[str, list[str]] = {}
    for witness in rules.witnesses:
        by_fact.setdefault(witness.fact, []).append(_witness(compiled, rules, witness, unknown))
    # An open point is named where it alone keeps a branch open: the branch's other tests met
    # (deciding._open; its own test is NULL in every row, so the branch is alive).
    for branch in rules.branches:
        if READING in branch.sources:
            others = [
                f"COALESCE({compiled.tests[t]}, FALSE)" for t in branch.tests if t.fact != READING
            ]
            by_fact.setdefault(READING, []).append("(" + _all(others) + ")")
    return [
        (f"{unknown[fact]} AND (" + " OR ".join(by_fact[fact]) + ")", fact)
        for fact in rules.order
        if fact in by_fact
    ]


def _witness(
    compiled: _Compiled, rules: deciding.Plan, witness: deciding.Witness, unknown: dict[str, str]
) -> str:
    """One witness as a condition on the row's test columns: its branch alive, the ages it
    chooses in order with the row's, and no other branch complete with the chosen values in
    place of the row's unknown ones. A test's column is NULL exactly when its fact is unknown,
    so COALESCE(test, c) is the chosen value's result c where the fact is unknown."""
    chosen = dict(witness.chosen)
    alive = [f"COALESCE({compiled.tests[t]}, TRUE)" for t in witness.branch.tests]

    def complete(branch: deciding.Branch) -> str:
        terms = []
        for test in branch.tests:
            values = chosen.get(RULE_FACTS[test.fact].source)
            meets = values is not None and atom_result(test, values[test.fact]) == MET
            terms.append(f"COALESCE({compiled.tests[test]}, {literal(meets)})")
        return "(" + " AND ".join(terms) + ")"

    blocked = [complete(b) for b in rules.branches if b is not witness.branch]
    ordered = _ages_in_order(compiled, chosen, witness)
    return "(" + " AND ".join([*alive, *ordered, *(f"NOT {c}" for c in blocked)]) + ")"


def _ages_in_order(
    compiled: _Compiled, chosen: dict[str, deciding.Values], witness: deciding.Witness
) -> list[str]:
    """deciding._allowed in SQL: an age the witness chooses (where the row lacks it) is not
    out of order with the other age of its pair, in completed years nor months, and some value
    of the deciding fact is not either; the row's ages as thresholds on their columns."""
    ages = {rule.source for pair in AGE_PAIRS for rule in pair}

    def out_of_order(values: dict[str, deciding.Values]) -> str:
        found = []
        for earlier, later in AGE_PAIRS:
            per = AGE_UNITS[later.unit]
            mine_e, mine_l = values.get(earlier.source), values.get(later.source)
            # completed units (counts) of each chosen age
            first = None if mine_e is None else cast(int, mine_e[earlier.name])
            then = None if mine_l is None else cast(int, mine_l[later.name])
            # Whether each age is the chosen one: the deciding fact always (it is unknown), a
            # chosen age where the row lacks it.
            was = "TRUE" if earlier.source == witness.fact else f"{earlier.source} IS NULL"
            now = "TRUE" if later.source == witness.fact else f"{later.source} IS NULL"
            if first is not None and then is not None:
                found.append(f"({was} AND {now} AND {literal(first > then)})")
            if first is not None:  # the row's later age: fewer completed units than chosen?
                limit = _age_below(later.source, Fraction(first, per))
                found.append(f"({was} AND {limit})")
            if then is not None:  # the row's earlier age: more completed units than chosen?
                limit = _age_at_least(earlier.source, Fraction(then + 1, per))
                found.append(f"({now} AND {limit})")
        return compiled.order("COALESCE(" + " OR ".join(found) + ", FALSE)") if found else "FALSE"

    mine = {s: v for s, v in chosen.items() if s in ages}
    if not mine and witness.fact not in ages:
        return []
    terms = [f"NOT {out_of_order(mine)}"]
    if witness.fact in ages:
        options = [f"NOT {out_of_order({**mine, witness.fact: v})}" for v in witness.meeting]
        terms.append("(" + " OR ".join(options) + ")")
    return terms


def _failed(compiled: _Compiled, roots: Sequence[Node]) -> list[tuple[str, str]]:
    """The tests that failed: unmet, with every group above them unmet."""
    return [
        (_all([f"NOT {compiled.condition(n)}" for n in path]), atom.id)
        for root in roots
        for atom, path in _paths(root)
    ]


THERAPY_STATUSES = ("eligible", "possible", "not_eligible")
REFERRAL_STATUSES = ("recommended", "possible", "not_indicated")
_READ = re.compile(r"\b[tgo][0-9]+\b")  # a test's, group's or age condition's column
DIGITS = 31  # of a key in base 4: 4**31 is below 2**63, a BIGINT's limit


class _Keyed:
    """The lists of ids, built once per distinct combination of the columns they read, not
    once per row: building them as text was most of a row's cost (issue 27), and a cohort
    has a few hundred combinations. Each subject's lists read its status and a few columns of
    three values (a test's, a group's: TRUE, FALSE or NULL). Each row gets exact integer keys
    of those (base 4, a digit a column, 31 digits a key: no hash, so no two combinations
    share one); the lists are made once over the rows DISTINCT in those columns, and each
    row takes its subject's by its keys. (Rows that kept only their keys, the columns read
    back out of the digits, took 23 s where these take 3.2 over 1,000,000 rows under the EU
    authorisations: DuckDB then computed the tests inside each digit.)"""

    def __init__(
        self,
        subjects: Sequence[tuple[str, tuple[str, ...], list[str]]],
        dialect: Dialect,
        columns: Collection[str],
    ) -> None:
        self.keys: list[str] = []  # per row: each key, "expression AS name"
        self.tables: list[tuple[str, str]] = []  # per subject: its lists by its keys (name, body)
        self.joins: list[str] = []
        self.cells: list[str] = []  # the record's cells: each status, then its lists
        self.read: list[str] = []  # the columns the lists read, statuses first
        self.statuses: list[str] = []
        self.listed: list[list[str]] = []  # per subject: its lists' names
        for number, (status, values, lists) in enumerate(subjects):
            lists = [made.format(text=dialect.text) for made in lists]
            if not dialect.keyed:
                self.cells += [status, *lists]
                continue
            # the columns named in the lists (a name found inside an id's text is no column)
            found = set(_READ.findall(" ".join(lists))).intersection(columns)
            read = sorted(found, key=_column_number)
            digits = [_digit(status, values), *(_digit(c, (True, False)) for c in read)]
            names = [f"k{number}_{at}" for at in range(-(-len(digits) // DIGITS))]
            keys = [
                f"{_key(digits[at * DIGITS : (at + 1) * DIGITS], dialect)} AS {name}"
                for at, name in enumerate(names)
            ]
            self.keys += keys
            self.read += [c for c in (status, *read) if c not in self.read]
            listed = [f"x{number}_{at}" for at in range(len(lists))]
            made = ",\n    ".join(f"{m} AS {n}" for m, n in zip(lists, listed, strict=True))
            self.tables.append(
                (
                    f"lists{number}",
                    f"SELECT {', '.join(keys)},\n    {made}\n"
                    f"  FROM (SELECT DISTINCT {', '.join([status, *read])} FROM keyed) AS one",
                )
            )
            self.statuses.append(status)
            self.listed.append(listed)
            on = " AND ".join(f"keyed.{name} = lists{number}.{name}" for name in names)
            self.joins.append(f"JOIN lists{number} ON {on}")
            self.cells += [f"keyed.{status}", *(f"lists{number}.{name}" for name in listed)]

    def select(self, *carried: str) -> str:
        """Each row's id, error, `carried` columns, the columns the lists read and its keys."""
        return (
            f"SELECT {', '.join(['id', 'error', *carried, *self.read])},\n    "
            + ",\n    ".join(self.keys)
            + "\n  FROM judged"
        )


def _status(met: str, values: tuple[str, ...], name: str) -> str:
    """A status column: NULL for a refused row, else the first of `values` when `met` holds,
    the second when it is unknown, the third when it fails. The keys' digits (_Keyed) are
    made from the same `values`: a status they did not know would share a key with NULL."""
    holds, unknown, fails = values
    return (
        f"CASE WHEN error IS NOT NULL THEN NULL WHEN {met} THEN {literal(holds)} "
        f"WHEN {met} IS NULL THEN {literal(unknown)} ELSE {literal(fails)} END AS {name}"
    )


def _column_number(column: str) -> tuple[str, int]:
    return column[0], int(column[1:])


def _digit(column: str, values: Sequence[object]) -> str:
    """A column's value as a digit: 0 for NULL, then 1, 2 ... in the order of `values`."""
    cases = " ".join(
        f"WHEN {column} = {literal(v)} THEN {at}"
        if not isinstance(v, bool)
        else f"WHEN {'' if v else 'NOT '}{column} THEN {at}"
        for at, v in enumerate(values, 1)
    )
    return f"CASE {cases} ELSE 0 END"


def _key(digits: Sequence[str], dialect: Dialect) -> str:
    """Digits in base 4 as one integer of the engine's 64-bit type."""
    return " + ".join(
        f"CAST({4**at} AS {dialect.integer}) * ({digit})" for at, digit in enumerate(digits)
    )


def compile_query(
    catalog: Catalog,
    dialect: Dialect,
    table: str,
    given: Collection[str] | None = None,
    as_of: date | None = None,
) -> str:
    """The query over `table` (a name or an expression). `given` names the columns the table
    has (id and facts); a fact column it lacks is read as unknown. None: all of them.

    A table with a birth_date (or as_of) column gives an age as dates (facts.dated_age);
    `as_of` is the day taken where a row gives none (None: the day the query runs)."""
    ctes, keyed, record = _compiled(catalog, dialect, table, given, False, as_of)
    if not dialect.keyed:
        return f"{ctes}\nSELECT\n  {record(keyed.cells)}\nFROM judged"
    return ctes + _keyed_select(keyed, dialect, record(keyed.cells))


def engine_statements(
    catalog: Catalog, table: str, given: Collection[str], as_of: date | None = None
) -> tuple[list[str], str]:
    """The same query for alltx's own engine (duckdb_engine), in DuckDB, as statements that
    make temporary tables and set variables, then the query that reads the records from them,
    in input order, the row's line last. The table has two more columns: `line`, the row's
    line in the file, and `read_error`, why the reader refused the row (Python's csv module:
    a record it cannot read), which is the row's error before any other.

    In input order without sorting the records: a join need not keep the order of its rows,
    and sorting the records back by their line (each a few dozen columns of text) was 40% of
    the run over 1,000,000 realistic rows. So each row's status and keys are kept in a table
    (`keyed`), each subject's lists made once per key (`lists0` ...) and numbered; the rows
    are joined to the numbers of their lists and sorted by line, a few narrow columns
    (`ordered`); each list's texts are a variable, in the order of their numbers, and the
    records are read from `ordered` alone, taking each text by its number: one table read in
    its order, which DuckDB keeps (its documentation, "Order Preservation")."""
    ctes, keyed, record = _compiled(catalog, DIALECTS["duckdb"], table, given, True, as_of)
    setup = [  # (from a CTE of its own: made from `judged` directly, it took 1.7 times as long)
        f"CREATE TEMPORARY TABLE keyed AS {ctes},\nrow_keys AS MATERIALIZED (\n"
        f"  {keyed.select('line')}\n)\nSELECT * FROM row_keys"
    ]
    cells: list[str] = []
    numbered: list[str] = []
    for at, ((name, body), status, listed) in enumerate(
        zip(keyed.tables, keyed.statuses, keyed.listed, strict=True)
    ):
        setup.append(
            f"CREATE TEMPORARY TABLE {name} AS SELECT row_number() OVER () AS place, "
            f"* FROM (\n  {body}\n) AS made"
        )
        setup += [
            f"SET VARIABLE {x} = (SELECT list({x} ORDER BY place) FROM {name})" for x in listed
        ]
        numbered.append(f"{name}.place AS p{at}")
        cells += [status, *(f"getvariable({literal(x)})[p{at}]" for x in listed)]
    setup.append(
        "CREATE TEMPORARY TABLE ordered AS SELECT keyed.id, keyed.error, keyed.line, "
        + ", ".join([*(f"keyed.{status}" for status in keyed.statuses), *numbered])
        + "\nFROM keyed"
        + "".join(f"\n{join}" for join in keyed.joins)
        + "\nORDER BY keyed.line"
    )
    return setup, f"SELECT\n  {record(cells)}, line\nFROM ordered"


def _compiled(
    catalog: Catalog,
    dialect: Dialect,
    table: str,
    given: Collection[str] | None,
    engine: bool,
    as_of: date | None,
) -> tuple[str, _Keyed, Callable[[list[str]], str]]:
    """The query up to `judged` (each row's statuses and tests), comments first; what makes
    the lists (_Keyed); and the record's columns from the cells of its statuses and lists."""
    from alltx.answer.answers import columns as csv_columns

    compiled = _Compiled(catalog)
    facts = table_columns()
    has = {c.name for c in facts} | {"id"} if given is None else set(given)
    q = dialect.name_of

    # Each fact column as it is written (text) or typed, then as the fact's value: reading()
    written = [(q("id") if "id" in has else "NULL") + " AS id"]
    reading = ["id"]
    carried = ["line", "read_error"] if engine else []
    written += [f"{q(name)} AS {name}" for name in carried]
    reading += carried
    dated = not has.isdisjoint(DATE_FIELDS)
    date_checks: list[tuple[str, str]] = []
    from_dated = ""
    if dated:
        dates_written, dates_read, carried_on, date_checks = _dates(dialect, has, as_of)
        written += dates_written
        reading += carried_on
        from_dated = "dated AS (\n  SELECT *,\n    " + ",\n    ".join(dates_read)
        from_dated += "\n  FROM written\n),\n"
    for column in facts:
        is_dated = dated and column.name == "age"
        if column.name in has:
            first, then = _reading(FACTS[column.name], dialect, is_dated)
            written += first
            reading += then
        elif is_dated:  # the age from the dates alone
            reading += [
                f"{dialect.cast('born_months', 'double')} AS age",
                "CASE WHEN born_months IS NOT NULL THEN 12 ELSE 1 END AS age_per",
                "born_end AS age_end",
                "FALSE AS given_age",
            ]
        else:
            reading.append(f"{dialect.cast('NULL', column.read_as)} AS {column.name}")
            reading += (
                [f"1 AS {column.name}_per", f"FALSE AS {column.name}_end"]
                if column.kind == "age"
                else []
            )
            if column.kind == "percent":
                reading += [
                    f"FALSE AS {column.name}_span",
                    f"{dialect.cast('NULL', 'double')} AS {column.name}_high",
                    f"FALSE AS {column.name}_open",
                ]

    derived, conflicts = _derivation()
    checks = _checks(facts, has, conflicts, dialect)
    checks = date_checks + checks  # the dates first: they stand for the age
    if engine:  # the reader's refusal first: that row's cells are not facts
        checks.insert(0, ("read_error IS NOT NULL", "read_error"))
    line = ", line" if engine else ""
    error = (
        "CASE\n"
        + "".join(f"      WHEN {when}\n        THEN {message}\n" for when, message in checks)
        + "    END"
    )

    state = [f"{expression} AS {name}" for name, expression in derived.items()]
    tests = [f"{_atom(atom)} AS {column}" for atom, column in compiled.tests.items()]
    groups = [f"{compiled.definition(g)} AS {column}" for g, column in compiled.groups.items()]

    statuses: list[str] = []
    subjects: list[tuple[str, tuple[str, ...], list[str]]] = []  # status, its values, lists
    for therapy in catalog.therapies:
        roots = [i.rule for i in therapy.indications]
        any_met = "(" + " OR ".join(compiled.condition(r) for r in roots) + ")"
        status = f"s_{len(statuses)}"
        statuses.append(_status(any_met, THERAPY_STATUSES, status))
        met = [(compiled.condition(i.rule), i.id) for i in therapy.indications]
        applying = [
            (compiled.condition(c.rule), c.id) for c in therapy.cautions if c.rule is not None
        ]
        lists = [
            _ids(dialect, f"{status} = 'eligible'", met),
            _ids(dialect, f"{status} = 'not_eligible'", _failed(compiled, roots)),
            _ids(dialect, f"{status} = 'possible'", _deciding(compiled, roots)),
            _ids(dialect, f"{status} <> 'not_eligible'", applying),
        ]
        subjects.append((status, THERAPY_STATUSES, lists))
    for referral in catalog.referrals:
        root = compiled.condition(referral.rule)
        status = f"s_{len(statuses)}"
        statuses.append(_status(root, REFERRAL_STATUSES, status))
        met = [(compiled.tests[atom], atom.id) for atom in atoms(referral.rule)]
        lists = [
            _ids(dialect, f"{status} = 'recommended'", met),
            _ids(dialect, f"{status} = 'possible'", _deciding(compiled, [referral.rule])),
        ]
        subjects.append((status, REFERRAL_STATUSES, lists))
    named = {*compiled.tests.values(), *compiled.groups.values(), *compiled.orders.values()}
    keyed = _Keyed(subjects, dialect, named)
    names = [name for name, _ in csv_columns(catalog) if name != "line"]
    release, regulator = literal(catalog.info.release), literal(catalog.info.authority.id)

    def record(parts: list[str]) -> str:
        cells = ["id", *parts, "error", release, regulator, "2"]
        return ",\n  ".join(
            f"{cell.format(text=dialect.text)} AS {q(name)}"
            for cell, name in zip(cells, names, strict=True)
        )

    read = sorted(has, key=_column_order)
    lacking = "for a table without some, name those it has: alltx sql --columns LIST"
    if given is None and dialect.by_name and not engine:
        # A table of some of the columns (the help's read_parquet('cohort.parquet') of a file
        # without a relapse column failed to bind: issue 42, 8): the others are NULL, unknown.
        nulls = ", ".join(f"NULL AS {q(name)}" for name in read)
        table = f"(SELECT * FROM (SELECT {nulls} LIMIT 0) UNION ALL BY NAME SELECT * FROM {table})"
        lacking = "a column the table lacks is read as unknown"
    ctes = (
        f"-- alltx data release {catalog.info.release} (updated "
        f"{catalog.info.updated.isoformat()}): {catalog.info.authority.scope}. "
        f"{dialect.name} dialect.\n"
        "-- Information from the labels named in `alltx data show`, not medical advice.\n"
        f"-- Reads the columns {', '.join(read)}; {lacking}.\n"
        "WITH written AS (\n  SELECT "
        + ",\n    ".join(written)
        + f"\n  FROM {table} AS patients\n),\n"
        + from_dated
        # computed once: every later step reads a fact many times (SQLite and PostgreSQL
        # would otherwise repeat its reading at each use)
        + f"given AS {dialect.materialized}(\n  SELECT "
        + ",\n    ".join(reading)
        + f"\n  FROM {'dated' if dated else 'written'}\n),\n"
        f"checked AS (\n  SELECT *,\n    {error} AS error\n  FROM given\n),\n"
        f"derived AS (\n  SELECT id, error{line}, "
        + ", ".join(c.name for c in facts if c.name not in derived)
        + "".join(f", {c.name}_per, {c.name}_end" for c in facts if c.kind == "age")
        + "".join(
            f", {c.name}_span, {c.name}_high, {c.name}_open" for c in facts if c.kind == "percent"
        )
        + ",\n    "
        + ",\n    ".join(state)
        + "\n  FROM checked\n),\n"
        f"tested AS {dialect.materialized}(\n  SELECT id, error{line}, {_AGES},\n    "
        + ",\n    ".join(tests)
        + "\n  FROM derived\n),\n"
        f"grouped AS {dialect.materialized}(\n  SELECT *,\n    "
        + ",\n    ".join(groups)
        + "\n  FROM tested\n),\n"
        f"judged AS {dialect.materialized}(\n  SELECT *,\n    "
        + ",\n    ".join(statuses + [f"{c} AS {n}" for c, n in compiled.orders.items()])
        + "\n  FROM grouped\n)"
    )
    return ctes, keyed, record


def _keyed_select(keyed: _Keyed, dialect: Dialect, shown: str) -> str:
    """The record from each row's statuses and keys and each subject's lists by its keys."""
    return (
        f",\nkeyed AS {dialect.reused}(\n  {keyed.select()}\n)"
        + "".join(f",\n{name} AS (\n  {body}\n)" for name, body in keyed.tables)
        + f"\nSELECT\n  {shown}\nFROM keyed"
        + "".join(f"\n{join}" for join in keyed.joins)
    )


def _column_order(name: str) -> int:
    names = ["id", *FIELDS]
    return names.index(name) if name in names else len(names)


def _derivation() -> tuple[dict[str, str], list[tuple[str, list[str], Implication]]]:
    """facts.derive in SQL, from the same declarations: each derived fact's value after the
    implications, applied in order, as an expression of the given columns; and each
    implication that can be contradicted, with the condition (over the values the ones before
    it left) on which it is, and the values of its `when` facts then."""
    now = {name: name for name in STATE}
    conflicts = []
    for rule in IMPLICATIONS:
        when = " AND ".join(
            f"{_term(now[name])} {op} {literal(bound)}" for name, op, bound in rule.when
        )
        then, value = now[rule.then], literal(rule.value)
        if rule.but:
            values = [now[name] for name, _, _ in rule.when]
            conflicts.append((f"{when} AND {_term(then)} <> {value}", values, rule))
            now[rule.then] = f"CASE WHEN {when} THEN {value} ELSE {then} END"
        else:  # it completes an unknown only
            now[rule.then] = (
                f"CASE WHEN {_term(then)} IS NULL AND {when} THEN {value} ELSE {then} END"
            )
    return now, conflicts


def _term(expression: str) -> str:
    """An expression as one term of a larger one: a column's name as it is, else bracketed."""
    return expression if expression.isidentifier() else f"({expression})"


def _checks(
    facts: list[Column],
    has: Collection[str],
    conflicts: list[tuple[str, list[str], Implication]],
    dialect: Dialect,
) -> list[tuple[str, str]]:
    """What the query refuses, in the Python path's order: each value that cannot be right
    (not one the fact's parser takes, or out of bounds), then facts that contradict each
    other: a value's in facts.refusal's words, with the text given; a contradiction's in the
    Python path's own words, with the number in them."""
    checks: list[tuple[str, str]] = []
    for column in facts:
        name = column.name
        if name not in has:
            continue
        refused = _refused(name, wants(FACTS[name]), f"w_{name}")
        checks.append((f"bad_{name}", refused))
        wrong = _wrong(column)
        if wrong:
            checks.append((f"{name} IS NOT NULL AND ({wrong})", refused))
    checks += [
        (_after(pair.earlier, pair.later, dialect), literal(out_of_order(pair)))
        for pair in NOT_AFTER
    ]
    for condition, values, rule in conflicts:
        # The Python path's words, with each count's number in them (a yes/no fact is named
        # without its value).
        pieces = rule.contradiction(["\0"] * len(values)).split("\0")
        numbers = [
            f"CAST(CAST({value} AS {dialect.integer}) AS {dialect.text})"
            for value, (_, _, bound) in zip(values, rule.when, strict=True)
            if not isinstance(bound, bool)
        ]
        message = literal(pieces[0])
        for number, piece in zip(numbers, pieces[1:], strict=True):
            message += f" || {number} || {literal(piece)}"
        checks.append((condition, message))
    return checks


def _after(earlier: str, later: str, dialect: Dialect) -> str:
    """facts.age_after in SQL: whether one age is surely more than another, in days where both
    are in days, else by the bounds of the months days complete whatever the calendar. (The
    least bound is under 0 for under 4 days: FLOOR's -1 and SQLite's 0 both refuse nothing.)"""
    first, then = _in_months(earlier), _in_months(later)
    most = dialect.floor.format(f"(4800 * {later} + {FEWER}) / {CYCLE}.0")
    least = dialect.floor.format(f"(4800 * {earlier} - {MORE}) / {CYCLE}.0")
    return (
        f"(CASE WHEN {earlier}_per = 0 AND {later}_per = 0 THEN {earlier} > {later} "
        f"WHEN {later}_per = 0 THEN {first} >= {most} + 1 "
        f"WHEN {earlier}_per = 0 THEN {least} > {then} "
        f"ELSE {first} > {then} END)"
    )


def _in_months(age: str) -> str:
    """An age's column in months, whichever unit it was written in (a number of years times
    12 in floating point: exact but for two ages within a rounding of each other)."""
    return f"(CASE WHEN {age}_per = 12 THEN {age} ELSE {age} * 12 END)"


def out_of_order(pair: NotAfter) -> str:
    """The error for two ages out of order, as the Python path's FactError words it."""
    first, second = pair.words
    return f"{pair.earlier}: the {first} is after {second}; check both"


def _wrong(column: Column) -> str:
    """A condition true of a (non-NULL) value out of the Python path's bounds. A range is
    tested as NOT (within it), so that NaN, which engines order apart (above every number in
    DuckDB and PostgreSQL, beside none in IEEE), is refused in each."""
    name = column.name
    if column.kind == "age":
        most = (
            f"CASE WHEN {name}_per = 12 THEN {MAX_AGE_YEARS * 12} WHEN {name}_per = 0 "
            f"THEN {MAX_AGE_DAYS} ELSE {MAX_AGE_YEARS} END"
        )
        return f"NOT ({name} >= 0 AND {name} <= {most})"
    if column.kind == "percent":
        return f"NOT ({name} >= 0 AND {name} <= 100)"
    if column.kind == "count":
        # A whole number of at most 15 digits, as facts.parse_count reads one (ROUND: SQLite
        # has FLOOR only in some builds, and its CAST to INTEGER stops at 2**63).
        return f"NOT ({name} >= 0 AND {name} <= {MAX_COUNT} AND ROUND({name}) = {name})"
    return ""  # a category or yes/no: its reading takes only right values


def error_field(message: str) -> str | None:
    """The field a query's error names (for JSON records' `field`), as the Python path's
    Failure has it: the fact before the colon; a contradiction names none."""
    name = message.split(":", 1)[0]
    return name if name in FIELDS else None


def table_schema() -> dict[str, object]:
    """The input table as a Frictionless Table Schema: each column's type, allowed values and
    meaning (every column may be missing or NULL: unknown)."""
    from alltx.core.facts import FACTS

    types = {"double": "number", "integer": "integer", "boolean": "boolean", "text": "string"}
    fields: list[dict[str, object]] = [
        {"name": "id", "type": "any", "description": "the row's id, carried through as it is"}
    ]
    for column in table_columns():
        entry: dict[str, object] = {
            "name": column.name,
            "type": types[column.sql_type],
            "description": FACTS[column.name].label + _UNITS.get(column.kind, ""),
        }
        if column.values:
            entry["constraints"] = {"enum": list(column.values)}
        elif column.kind == "age":
            entry["constraints"] = {"minimum": 0, "maximum": MAX_AGE_YEARS}
        elif column.kind == "percent":
            entry["constraints"] = {"minimum": 0, "maximum": 100}
        elif column.kind == "count":
            entry["constraints"] = {"minimum": 0, "maximum": MAX_COUNT}
        fields.append(entry)
    fields += [
        {"name": field.name, "type": "date", "description": field.described + "; a DATE or text"}
        for field in DATE_FIELDS.values()
    ]
    return {
        "title": "alltx sql: the table of patient facts",
        "description": "One row per patient; NULL is unknown. A column left out is unknown too "
        "(alltx sql --columns names those the table has). A value is of the type given, or "
        "text with the spellings the flags take (8m, pos, CD19+, B-ALL, CR1), read as "
        "`alltx options --input` reads a CSV cell.",
        "fields": fields,
        "missingValues": [""],
    }


_UNITS = {"age": ", in years (a number: 8 months is 0.6667)", "percent": ", in percent"}
