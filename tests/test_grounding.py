"""The grounding check, table-driven: supported vs invented facts, names and negations."""

from __future__ import annotations

import pytest

from doppel.agents.grounding import Evidence, check
from doppel.language.facts import extract_facts

EVIDENCE = Evidence([
    "Day: Monday; Hours: Closed",
    "Day: Tuesday; Hours: 7:00 am – 5:00 pm",
    "Day: Saturday; Hours: 8:00 am – 4:00 pm",
    "Day: Sunday; Hours: 8:00 am – 2:00 pm",
    "We are closed every Monday — that's the day the bakers rest.",
    "Christmas Eve, December 24: open 7:00 am – 1:00 pm.",
    "Christmas Day, December 25: closed.",
    "Summer holiday week: closed from Monday, August 4 through Sunday, August 10.",
    "item: Country Sourdough; category: bread; price: 9.00; notes: vegan",
    "item: Almond Croissant; category: pastry; price: 5.25; notes: contains nuts",
    "item: Latte; category: drink; size: 16 oz; price: 5.50",
    "Pay a 50% deposit to confirm the order. Orders need at least 5 days' notice.",
    "Call (503) 555-0142 or email hello@juniperandrye.example, "
    "or visit https://juniperandrye.example/cakes.",
    "Maya Ortega bakes the bread; Tomás runs the coffee bar.",
    "We deliver custom cakes within 10 miles for a flat $25 fee.",
    "We do not deliver bread or pastries.",
])

GROUNDED = [
    ("The Country Sourdough is $9.", "How much is the sourdough?"),
    ("A loaf of country sourdough costs 9.00 dollars.", ""),
    ("An almond croissant is $5.25.", ""),
    ("We're closed on Mondays.", "Are you open on Monday?"),
    ("No, we are not open on Monday.", "Are you open Monday?"),
    ("On Saturday we open at 8 am and close at 4 pm.", ""),
    ("On Saturdays we're open 8:00 a.m. to 4:00 p.m.", ""),
    ("On Christmas Eve we're open until 1 pm.", ""),
    ("We're closed on December 25.", ""),
    ("We are closed August 6 for our summer break.", ""),
    ("You can call us at 503-555-0142.", ""),
    ("Email hello@juniperandrye.example.", ""),
    ("Details are on juniperandrye.example/cakes.", ""),
    ("A 50% deposit confirms the order.", ""),
    ("Custom cakes need five days' notice.", ""),
    ("Our bread is baked by Maya Ortega.", ""),
    ("Delivery costs $25 within 10 miles.", ""),
    ("Hi Sam! The Country Sourdough is $9.", "Hi, I'm Sam. How much is the sourdough?"),
]

INVENTED = [
    # (draft, question, what must be reported)
    ("The Country Sourdough is $8.50.", "", "8.5"),
    ("A latte is $5.25.", "How much is a latte?", "5.25"),  # the croissant's price
    ("We open at 10:30 am on Saturday.", "", "10:30"),
    ("Yes, we're open on Monday.", "Are you open on Monday?", "contradicts"),
    ("We are available on Mondays.", "", "contradicts"),
    ("We're closed on Sundays.", "", "contradicts"),
    ("We're open on December 25.", "", "contradicts"),
    ("Call us at (503) 555-9999.", "", "phone"),
    ("Email orders@juniperandrye.example.", "", "email"),
    ("See www.bestbakery.com for details.", "", "url"),
    ("Ask for Jennifer at the counter.", "", "Jennifer"),
    ("We have three locations.", "", "number"),
    ("Orders need 14 days' notice.", "", "14"),
    ("We're closed on July 4.", "", "date"),
    ("Yes, we deliver bread.", "Do you deliver bread?", "contradicts"),
]


@pytest.mark.parametrize("draft,question", GROUNDED)
def test_supported_answers_pass(draft: str, question: str) -> None:
    verdict = check(draft, EVIDENCE, question)
    assert verdict.grounded, verdict
    # names are checked but do not count as verified facts: a sentence of names alone
    # ("Ask Maya Ortega") verifies nothing about prices, times or policies
    assert verdict.facts_checked > 0 or "Maya Ortega" in draft


@pytest.mark.parametrize("draft,question,reported", INVENTED)
def test_invented_facts_fail(draft: str, question: str, reported: str) -> None:
    verdict = check(draft, EVIDENCE, question)
    assert not verdict.grounded, f"{draft!r} passed"
    assert reported.lower() in str(verdict.unsupported + verdict.contradictions).lower()


def test_extraction_normalises_equal_values() -> None:
    values = {(f.kind, f.value) for f in extract_facts(
        "$9.00, nine dollars, 7am, 7:00 a.m., noon, Dec. 24th, 24 December, Mondays")}
    assert ("money", "9") in values
    assert ("time", "07:00") in values and ("time", "12:00") in values
    assert ("date", "12-24") in values
    assert ("weekday", "monday") in values


def test_phone_digits_are_not_read_as_numbers() -> None:
    facts = extract_facts("Call (503) 555-0142 today.")
    assert [f.kind for f in facts if f.kind != "name"] == ["phone"]


def test_common_words_are_not_names_but_midsentence_capitals_are() -> None:
    names = {f.value for f in extract_facts("Sure! Our baker Jennifer will help. Thanks.")
             if f.kind == "name"}
    assert names == {"jennifer"}


def test_ordinary_words_that_look_like_dates_are_ignored() -> None:
    kinds = {f.kind for f in extract_facts("You may sit in the sun on Sat.")}
    assert "month" not in kinds
    assert "weekday" in kinds  # "Sat." abbreviation, capitalised


def test_text_without_facts_is_grounded_but_counts_nothing() -> None:
    verdict = check("Happy to help with that!", EVIDENCE, "")
    assert verdict.grounded and verdict.facts_checked == 0


def test_an_hour_does_not_make_an_amount_of_money_true() -> None:
    """Found in the console's test chat: the 135M model wrote "the wheel ... costs 10
    dollars" next to a passage saying classes run "from 10am"."""
    evidence = Evidence(["Wheel classes run every Saturday from 10am to 1pm. A class costs "
                         "$45 per person, clay and firing included."])
    assert not check("The wheel costs 10 dollars.", evidence).grounded
    assert check("Classes start at 10 on Saturdays.", evidence).grounded
    assert check("A class is $45.", evidence).grounded


def test_an_iso_date_is_a_date_not_a_phone_number() -> None:
    facts = extract_facts("2024-05-04: hey fam! Call 555-0142.")
    assert [(f.kind, f.value) for f in facts if f.kind in ("date", "phone")] == [
        ("date", "05-04"), ("phone", "5550142")]
