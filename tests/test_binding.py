"""Facts bound to their subject: the grounding check's failure shapes, table by table.

Each shape was seen on content no one working on doppel had written: the price of the
neighbouring row, another day's or a holiday's time, "yes, we're open" on a day the hours page
lists as closed, a quantity with the wrong unit, a claim the content never makes. Every case
is checked against the evidence of several different businesses.
"""

from __future__ import annotations

import pytest

from doppel.agents.grounding import Evidence, check
from doppel.language.bound import claim_words, parse_units

BIKES = """\
Bike: City bike; Half day: $18; Full day: $28; Week: $95
Bike: E-bike; Half day: $35; Full day: $55; Week: $210
Bike: Kids' bike; Half day: $10; Full day: $15; Week: $50"""

BIKE_HOURS = """\
Monday: Closed
Tue–Fri: 9am – 6pm
Saturday: 8am – 5pm
Sunday: 10am – 4pm
Christmas Eve: 9am – 2pm (closes early)
Christmas Day: Closed
Thanksgiving: Closed"""

SERVICES = """\
Service: Basic tune-up; Duration (min): 45; price_usd: 65.00; Notes: gears and brakes adjusted
Service: Full service; Duration (min): 120; price_usd: 140.00; Notes: includes bearings
Service: Flat repair; Duration (min): 15; price_usd: 12.00"""

SALON = """\
Service: Women's cut; Junior: $55; Senior: $75; Master: $95
Service: Men's cut; Junior: $35; Senior: $45; Master: $55
Service: Blow-dry; Junior: $40; Senior: $50; Master: $60"""

SALON_HOURS = """\
Tue, Wed: 10am–6pm
Thu: 10am–9pm (late night)
Fri–Sat: 9am–5pm
Sun, Mon: Closed
Boxing Day: Closed"""

POLICIES = """\
We do not accept cheques. Cash, debit and all major cards are welcome.
A deposit of $50 is required for colour appointments.
Cancellations need 24 hours' notice."""

CANDLES = """\
Beeswax Pillar — Candles. Sizes: 4 oz $14.00, 8 oz $26.00, 14 oz $38.00. Hand poured.
Reed Diffuser — Home fragrance. Sizes: 100 ml $32.00, 200 ml $48.00. Lasts about 3 months."""


def ev(*texts: str) -> Evidence:
    return Evidence(list(texts))


# (evidence, question, draft that states a wrong fact)
WRONG = [
    # the neighbouring row's price
    (BIKES, "How much is a full day on the e-bike?", "A full day on the e-bike is $28."),
    (BIKES, "How much to rent a kids bike for a week?", "A kids' bike is $95 for a week."),
    (SERVICES, "How much is a full service?", "A full service costs $65."),
    (SALON, "What does a men's cut with a master stylist cost?", "A men's cut with a master "
     "stylist is $95."),
    (CANDLES, "How much is the big diffuser?", "The 200 ml Reed Diffuser is $38."),
    # the right row, the wrong column
    (BIKES, "How much is a full day on the city bike?", "The city bike is $18 for a full day."),
    (SALON, "Women's cut with a senior stylist?", "A women's cut with a senior stylist is $95."),
    # another day's time, a holiday's time given as a weekday's
    (BIKE_HOURS, "What time do you open on Sunday?", "On Sunday we open at 8am."),
    (BIKE_HOURS, "When do you close on Tuesday?", "We close at 2pm on Tuesday."),
    (SALON_HOURS, "How late are you open on Friday?", "We're open until 9pm on Friday."),
    # a flipped open/closed, per date and holiday
    (BIKE_HOURS, "Are you open on Christmas Day?", "Yes, we are open."),
    (BIKE_HOURS, "Are you open on Thanksgiving?", "Yes, we're open on Thanksgiving."),
    (SALON_HOURS, "Are you open on Boxing Day?", "Yes, we're open."),
    (BIKE_HOURS, "Are you open Mondays?", "Yes, we're open on Monday."),
    # a quantity with its unit
    (POLICIES, "How much notice do I need to cancel?", "Cancellations need 48 hours' notice."),
    (SERVICES, "How long does a basic tune-up take?", "A basic tune-up takes 2 hours."),
    # a claim without a number that the content never makes
    (POLICIES, "Can I pay by cheque?", "Yes, you can pay by cheque."),
    (POLICIES, "Is Rival Salon cheaper?", "Rival Salon is a luxury only the most elite can "
     "afford."),
    ("Farmers market booth: Saturdays 8am-1pm at Depot Square.", "market booth on saturday?",
     "The booth is closed to the public on Saturdays."),
    (POLICIES, "Can I bring my own dye?", "You can bring your own dye for a discount."),
]

RIGHT = [
    (BIKES, "How much is a full day on the e-bike?", "A full day on the e-bike is $55."),
    (BIKES, "How much are your bikes?", "The city bike is $28 a day and the e-bike is $55."),
    (SERVICES, "How much is a full service?", "A full service is $140 and takes 120 minutes."),
    (SALON, "What does a men's cut with a master stylist cost?", "A men's cut with a master "
     "stylist is $55."),
    (CANDLES, "How much is the big diffuser?", "The 200 ml Reed Diffuser is $48."),
    (BIKE_HOURS, "What time do you open on Sunday?", "On Sunday we open at 10am."),
    (BIKE_HOURS, "Are you open on Christmas Eve?", "Yes, on Christmas Eve we close early at "
     "2pm."),
    (BIKE_HOURS, "Are you open on Christmas Day?", "No, we're closed on Christmas Day."),
    (SALON_HOURS, "How late are you open on Thursday?", "We're open until 9pm on Thursday."),
    (POLICIES, "Can I pay by cheque?", "No, we do not accept cheques."),
    (POLICIES, "How much notice do I need to cancel?", "Cancellations need 24 hours' notice."),
]


@pytest.mark.parametrize("evidence,question,draft", WRONG)
def test_a_value_of_another_subject_day_or_unit_is_caught(evidence: str, question: str,
                                                          draft: str) -> None:
    verdict = check(draft, ev(evidence), question)
    assert not verdict.grounded, (draft, verdict)


@pytest.mark.parametrize("evidence,question,draft", RIGHT)
def test_the_value_of_the_subject_asked_about_passes(evidence: str, question: str,
                                                     draft: str) -> None:
    verdict = check(draft, ev(evidence), question)
    assert verdict.grounded, (draft, verdict)


def test_rows_know_their_subject_columns_and_days() -> None:
    units = parse_units(BIKES + "\n" + BIKE_HOURS + "\n" + CANDLES)
    by_subject = {u.subject: u for u in units}
    assert by_subject["E-bike"].kind == "record"
    assert "ebik" in by_subject["E-bike"].subject_words  # "e-bike", "E-Bikes": one key
    assert by_subject["Tue–Fri"].days == {"tuesday", "wednesday", "thursday", "friday"}
    assert by_subject["Christmas Day"].dates == {"12-25"} and by_subject[
        "Christmas Day"].polarity == -1
    assert by_subject["Thanksgiving"].dates == {"h:thanksgiving"}
    pillar = by_subject["Beeswax Pillar"]
    assert pillar.kind == "product" and [c.header for c in pillar.cells_with("money")] == [
        "4 oz", "8 oz", "14 oz"]
    assert "12-24" in claim_words("open on christmas eve?")
    assert "saturday" in claim_words("Saturdays?")


def test_a_plain_number_in_a_price_column_is_an_amount() -> None:
    verdict = check("A flat repair is $12.", ev(SERVICES), "How much is a flat repair?")
    assert verdict.grounded, verdict
    verdict = check("A flat repair is $65.", ev(SERVICES), "How much is a flat repair?")
    assert not verdict.grounded
