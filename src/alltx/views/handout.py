"""One patient's answer as a page to print and bring to an appointment (`--format html`).

Built from the same answer as `--format json` (`answers.options_json`): the facts given, the
answer at a glance, each therapy's criteria met, not met or unknown, the questions to ask that
fit, the sources with their addresses, the data's date and the not-advice line. One file with
its styles inside and nothing fetched from the network; every text is escaped, so nothing a
user typed or a data file holds can become markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from alltx.answer import answers
from alltx.core.facts import READING, Facts, deciding_words
from alltx.core.plain import web_address
from alltx.model.catalog import Catalog, if_unknown
from alltx.views.words import facts_words, value_words

if TYPE_CHECKING:
    from alltx.answer.shapes import CriterionOut, OptionsOut, ReferralOut, SourceOut

MARKS = {"met": ("✓", "met"), "unmet": ("✗", "not met"), "unknown": ("?", "not known")}
STATUS = {"eligible": "eligible", "possible": "possible", "not_eligible": "not eligible",
          "recommended": "recommended", "not_indicated": "not indicated"}  # fmt: skip

STYLE = """
body { font: 10pt/1.35 system-ui, sans-serif; color: #111; max-width: 48em; margin: 1em auto; }
h1 { font-size: 15pt; margin: 0 0 .2em; } h2 { font-size: 12pt; margin: 1em 0 .3em; }
h3 { font-size: 10.5pt; margin: .6em 0 .15em; }
p, ul, ol { margin: .15em 0; } ul { padding-left: 1.3em; } li { margin: 0; }
ul.criteria { list-style: none; padding-left: 1em; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ccc; padding: .15em .4em; text-align: left;
         vertical-align: top; }
.note { font-weight: bold; } .dim { color: #555; } .url { word-break: break-all; }
.eligible, .recommended { color: #075; } .possible { color: #850; }
.not_eligible, .not_indicated { color: #a00; } .caution { color: #705; font-weight: bold; }
ol.sources { columns: 2; column-gap: 1.5em; font-size: 90%; padding: 0;
             list-style-position: inside; }
ol.sources li { break-inside: avoid; overflow-wrap: anywhere; }
.blank { display: inline-block; min-width: 18em; border-bottom: 1px solid #555; }
.notes div { border-bottom: 1px solid #999; height: 1.8em; }
@page { margin: 10mm; }
@media print { body { margin: 0; max-width: none; font-size: 8pt; line-height: 1.15; }
               a { color: inherit; } }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _criteria(criteria: Sequence[CriterionOut], only_unmet: bool, patient: Facts) -> str:
    """The criteria as a list, each with the patient's value in the terminal's words (the
    terminal's own function: words.value_words)."""
    items = []
    for criterion in criteria:
        if (only_unmet and criterion["result"] != "unmet") or criterion["fact"] == READING:
            continue  # (an open point is said with the status, where it is open)
        mark, said = MARKS[criterion["result"]]
        members = [c for c in criterion["criteria"] if c["fact"] != READING]
        # A group left with one test (an open point's branch, its point said with the status)
        # is one line on paper: the group's words, the test's value.
        tested = members[0] if len(members) == 1 and members[0]["fact"] else criterion
        words = value_words(tested, patient) if tested.get("fact") else None
        shown = "" if words is None else f' <span class="dim">[{_e(words)}]</span>'
        inner = "" if tested is not criterion else _criteria(members, only_unmet, patient)
        items.append(f'<li title="{said}">{mark} {_e(criterion["text"])}{shown}{inner}</li>')
    return f'<ul class="criteria">{"".join(items)}</ul>' if items else ""


def page(
    answer: OptionsOut,
    patient: Facts,
    catalog: Catalog,
    questions: Sequence[str],
    version: str,
    made: str,
) -> str:
    """The handout: `answer` is options_json's for `patient`, the facts as given (for each
    criterion's value exactly: an age to the day, and the facts in plain words); `questions`
    those that fit (guide_answers.fitting_questions); `made` the day the page is made, in
    words. A caution whose condition is not known yet is said once, plainly, after the
    therapies (answers.open_cautions), where the terminal says it in bold under each therapy."""
    facts, unknown = facts_words(patient, catalog.facts_read())
    unread = "; ".join(patient.unread)
    unread = f'<p class="dim">In the records, not read: {_e(unread)}</p>' if unread else ""
    open_cautions = answers.open_cautions(answer, catalog)
    pending = {
        if_unknown(condition, text) for condition, said in open_cautions.items() for _, text in said
    }
    data = answer["data"]
    numbers: dict[str, int] = {}
    sources: list[SourceOut] = []

    def cite(cited: Sequence[SourceOut]) -> str:
        for source in cited:
            if source["id"] not in numbers:
                numbers[source["id"]] = len(numbers) + 1
                sources.append(source)
        return ", ".join(f"[{numbers[s['id']]}]" for s in cited)

    glance = []
    for option in answer["options"]:
        caution = "; ".join(option.get("cautions_apply") or ())
        warn = f' <span class="caution">CAUTION: {_e(caution)}</span>' if caution else ""
        name = option["brands"][0] if option["brands"] else option["name"]
        because = _e(answers.why(option))
        glance.append(
            f"<tr><td><b>{_e(name)}</b> ({_e(option['name'])})</td>"
            f'<td class="{option["status"]}">{STATUS[option["status"]]}</td>'
            f"<td>{warn}{' ' if warn else ''}{because}</td></tr>"
        )
    for referral in answer["referrals"]:
        glance.append(
            f"<tr><td><b>{_e(referral['title'])}</b></td>"
            f'<td class="{referral["status"]}">{STATUS[referral["status"]]}</td>'
            f"<td>{_e(answers.referral_why(referral))}</td></tr>"
        )

    details = []
    for option in answer["options"]:
        status = option["status"]
        parts = [
            f"<h3>{_e(option['name'])} ({_e(', '.join(option['brands']))}): "
            f'<span class="{status}">{STATUS[status]}</span></h3>',
            *_open(option["open"]),
        ]
        for indication in option["indications"]:
            mark, _ = MARKS[indication["status"]]
            parts.append(f"<p>{mark} <i>{_e(indication['summary'])}</i></p>")
            parts.append(
                _criteria(indication["criteria"], indication["status"] == "unmet", patient)
            )
        if option["missing"]:
            missing = ", ".join(deciding_words(name)[0] for name in option["missing"])
            parts.append(f"<p>To decide: {_e(missing)}</p>")
        for caution in option["cautions"]:
            if caution not in pending:  # one that applies, or always does
                parts.append(f'<p class="caution">! {_e(caution)}</p>')
        parts.append(f'<p class="dim">Sources: {cite(option["sources"])}</p>')
        details.append("".join(parts))
    for referral in answer["referrals"]:
        parts = [
            f'<h3>{_e(referral["title"])}: <span class="{referral["status"]}">'
            f"{STATUS[referral['status']]}</span></h3>",
            *_open(referral["open"]),
            _criteria(_applying(referral), False, patient),
            f'<p class="dim">Sources: {cite(referral["sources"])}</p>',
        ]
        details.append("".join(parts))

    if open_cautions:
        details.append("<h3>Cautions if a fact not given turns out so</h3>")
    for condition, said in open_cautions.items():
        items = "".join(f"<li>{_e(text)}</li>" for _, text in said)
        details.append(f"<p>If {_e(condition)}:</p><ul>{items}</ul>")

    listed = []
    for number, source in enumerate(sources, 1):
        named = "; ".join([source["title"], *source.get("identifiers", ())])
        url = source.get("url")
        # The data check refuses other addresses; this holds anyway.
        link = f'<br><a class="url" href="{_e(url)}">{_e(url)}</a>' if web_address(url) else ""
        listed.append(f"<li value='{number}'>{_e(named)}{link}</li>")

    given = "; ".join(f"{_e(label)}: {_e(value)}" for label, value in facts) or "none given"
    first = answer.get("caveat")
    caveat = f'\n<p class="note"><strong>{_e(first)}</strong></p>' if first else ""
    asks = "".join(f"<li>{_e(q)}</li>" for q in questions)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alltx: treatment options to talk about with the care team</title>
<style>{STYLE}</style></head><body>
<h1>Immunotherapies for ALL: what the labels say for this patient</h1>{caveat}
<p>Patient: <span class="blank"></span> &nbsp; Made on {_e(made)} by alltx</p>
<p class="note">{_e(answer["disclaimer"])}</p>
<p class="dim">{_e(data["scope"])}. Data: {_e(data["regulator"])}, release
{_e(data["release"])}, updated {_e(data["updated"])}; alltx {_e(version)}.</p>
<h2>The patient's facts</h2>
<p>{given}</p><p class="dim">Not given (unknown): {_e(", ".join(unknown)) or "none"}</p>{unread}
<h2>At a glance</h2><table>{"".join(glance)}</table>
<p class="dim">✓ met, ✗ not met, ? not known yet: the facts named would decide.</p>
<h2>Each therapy, criterion by criterion</h2>{"".join(details)}
<h2>Questions to ask</h2><ul>{asks}</ul>
<h2>Notes</h2><div class="notes">{"<div></div>" * 6}</div>
<h2>Sources</h2><ol class="sources">{"".join(listed)}</ol>
<p class="note">{_e(answer["disclaimer"])}</p>
</body></html>
"""


def _open(points: list[str]) -> list[str]:
    """The open points of the sources behind a `possible`, said under the status."""
    return [f'<p class="open"><b>{_e(point)}</b></p>' for point in points]


def _applying(referral: ReferralOut) -> list[CriterionOut]:
    """A referral's reasons for the printed page: those met or open (a reason for another age
    band is left out, for room: the terminal lists them all); every one where none applies."""
    if referral["status"] == "not_indicated":
        return referral["reasons"]
    return [reason for reason in referral["reasons"] if reason["result"] != "unmet"]
