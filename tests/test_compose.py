"""Composed answers through real turns: a price row, the day's hours, a holiday, a contact, a
clear no, a follow-up, all without the model, cited by title; and the contact card filled from
the content (never from a customer's review)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from doppel.agents.compose import analyse
from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.service import Doppel
from doppel.testing import FakeChatBackend

RENTALS = """<html><head><title>Rentals | Gull Cycles</title></head><body>
<nav>Home · Rentals · Repairs</nav>
<main><h1>Bike rentals</h1>
<table><tr><th>Bike</th><th>Half day</th><th>Full day</th><th>Week</th></tr>
<tr><td>City bike</td><td>$18</td><td>$28</td><td>$95</td></tr>
<tr><td>E-bike</td><td>$35</td><td>$55</td><td>$210</td></tr>
</table>
<p>Helmets and locks are included with every rental.</p></main>
<footer><p>Gull Cycles · 14 Harbor Street, Belfast ME</p><p>Call (207) 555-0131 ·
hello@gullcycles.example</p></footer></body></html>"""

HOURS = """# Opening hours

- Monday: Closed
- Tue–Fri: 9am – 6pm
- Saturday: 8am – 5pm
- Sunday: 10am – 4pm

## Holidays

- Christmas Eve: 9am – 2pm (closes early)
- Christmas Day: Closed
"""

POLICIES = """# Policies

## Payment
We do not accept cheques. Cash and all major cards are welcome.

## Deposits
Every rental needs a photo ID and a $100 card hold.

## Damage
Broken a part on the trail? Tell us when you bring the bike back and we fix it at cost.

## Sunset tours
- When: Friday evenings at 7pm
- Price: $45 per rider, helmet included
"""

REVIEWS = """# What our customers say

"Great service! Text me anytime, Dana, (207) 555-0199." — Dana R.
"""


@pytest.fixture
def shop(app: Doppel, tmp_path: Path) -> Agent:
    folder = tmp_path / "gull"
    folder.mkdir()
    (folder / "rentals.html").write_text(RENTALS)
    (folder / "hours.md").write_text(HOURS)
    (folder / "policies.md").write_text(POLICIES)
    (folder / "reviews.md").write_text(REVIEWS)
    app.settings.min_relevance = 0.08  # the fake embedder's cosine is plain word overlap
    record = app.agents.create(AgentSpec(slug="gull", name="Gull Cycles"))
    report = app.ingest(record, [folder])
    assert report.contact  # found in the content, for the owner to review
    return app.agents.get("gull")


def ask(app: Doppel, agent: Agent, message: str, thread: str = "t"):  # type: ignore[no-untyped-def]
    return asyncio.run(app.runtime.turn(agent, message, thread))


@pytest.mark.parametrize("question,expected,not_expected", [
    ("How much is a full day on the e-bike?", "$55", ["$28", "$35", "$210"]),
    ("how much for the city bike for a week", "$95", ["$210", "$28"]),
    ("What time do you open on Sunday?", "10am", ["8am", "9am"]),
    ("Are you open on Mondays?", "closed", ["9am"]),
    ("Are you open on Christmas Eve?", "2pm", ["6pm"]),
    ("Are you open on Christmas Day?", "closed", ["Yes"]),
    ("Can I pay by cheque?", "do not accept cheques", ["Yes"]),
    ("can I pay with a check?", "do not accept cheques", ["Yes"]),
    ("How much is the sunset tour?", "$45", ["$100", "$55"]),
    ("What's your phone number?", "(207) 555-0131", ["0199"]),
    ("where are you located?", "14 Harbor Street", []),
])
def test_composed_answers_need_no_model(app: Doppel, shop: Agent,
                                        fake_backend: FakeChatBackend, question: str,
                                        expected: str, not_expected: list[str]) -> None:
    result = ask(app, shop, question)
    assert result.path == "composed", result
    assert expected.lower() in result.answer.lower(), result.answer
    for wrong in not_expected:
        assert wrong not in result.answer, result.answer
    assert fake_backend.calls == []
    assert "Bike:" not in result.answer and "; " not in result.answer  # no record syntax
    # a numbered marker per source, labelled by the page's title, never a path
    for c in result.citations:
        assert f"[{c.number}]" in result.answer
        assert ".html" not in c.label() and ".md" not in c.label()


def test_a_follow_up_keeps_the_subject_and_takes_its_own_day(app: Doppel, shop: Agent) -> None:
    first = ask(app, shop, "What time do you open on Saturday?", thread="f")
    assert "8am" in first.answer
    second = ask(app, shop, "and on Sunday?", thread="f")
    assert second.path == "composed" and "10am" in second.answer and "8am" not in second.answer


def test_the_contact_card_comes_from_the_business_not_a_review(shop: Agent) -> None:
    contact = shop.spec.contact
    assert contact.phone.endswith("555-0131")
    assert contact.email == "hello@gullcycles.example"
    assert "Harbor Street" in contact.address


def test_an_owners_contact_is_never_overwritten(app: Doppel, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "rentals.html").write_text(RENTALS)
    spec = AgentSpec.parse({"slug": "own", "name": "Own", "contact": {"phone": "555-0100"}})
    agent, report = app.create_agent(spec, [folder])
    assert agent.spec.contact.phone == "555-0100" and not agent.spec.contact.email
    assert report is not None and report.contact == {}


def test_a_question_about_a_date_the_content_does_not_mention_is_not_answered_from_the_week(
        app: Doppel, shop: Agent) -> None:
    result = ask(app, shop, "Are you open on New Year's Day?")
    assert result.path != "composed"


def test_analyse_reads_days_follow_ups_and_today() -> None:
    saturday = dt.date(2026, 12, 5)
    ask_ = analyse("are you open today?", today=saturday)
    assert ask_.intent == "hours" and ask_.days == {"saturday"} and ask_.yes_no
    follow = analyse("and Sunday?", previous="What time do you open on Saturday?")
    assert follow.intent == "hours" and follow.days == {"sunday"}
    assert analyse("How long does it take?", previous="How much is a full service?").duration


def test_a_prose_question_gets_the_answering_sentence_before_any_draft(
        app: Doppel, shop: Agent, fake_backend: FakeChatBackend) -> None:
    result = ask(app, shop, "What does every rental need?")
    assert result.path == "extractive", result
    assert result.answer.startswith("Every rental needs a photo ID and a $100 card hold.")
    assert fake_backend.calls == []  # no model: the owner's sentence answers
    # a question nothing in the content answers is not met with a nearby sentence
    result = ask(app, shop, "Do you sell kayaks?", "k")
    assert result.path == "dont_know" and "(207) 555-0131" in result.answer


def test_sentence_vectors_are_embedded_once_and_bounded(app: Doppel,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    import doppel.knowledge.index as index_module

    index = app.index
    calls: list[int] = []
    real = index.embedder.embed

    def counting(texts):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(index.embedder, "embed", counting)
    monkeypatch.setattr(index_module, "SENTENCE_CACHE", 3)
    first = index.embed_sentences(["a b", "c d", "a b"])
    assert calls == [2]  # the repeated sentence once
    assert np.allclose(first[0], first[2]) and np.allclose(first[0], real(["a b"])[0])
    index.embed_sentences(["a b", "e f"])
    assert calls == [2, 1]  # only the new one
    index.embed_sentences(["g h"])
    assert len(index._sentences) == 3  # bounded: the least recent left
    assert index.embed_sentences([]).shape == (0, index.embedder.dim)


def test_a_lead_in_is_read_with_the_sentence_that_answers(app: Doppel, shop: Agent) -> None:
    result = ask(app, shop, "what happens if I break a part on the trail?")
    assert result.path == "extractive", result
    assert "we fix it at cost" in result.answer, result.answer


def test_paying_by_a_means_is_not_a_price_question() -> None:
    assert analyse("Is it ok if I pay by personal cheque?").intent == "other"
    assert analyse("can I pay with my amex card").intent == "other"
    assert analyse("how much do I pay for a tune-up?").intent == "price"


@pytest.mark.parametrize("question,sentence,expected", [
    ("how much is the monthly plan for a combi?",
     "HeatCare plan – £12.50 a month (combi) or £14.50 a month (system/regular). Includes the "
     "annual service.",
     "HeatCare plan – £12.50 a month (combi). Includes the annual service."),
    ("what's your minimum for a first order?",
     "The minimum opening order is $750; reorders have a $400 minimum.",
     "The minimum opening order is $750."),
    ("whats the minimum order for office catering",
     "Minimum order £120, 48 hours' notice. Coffee flask (serves 10, with cups): £22.",
     "Minimum order £120, 48 hours' notice."),
    # no clause stands out: every price stays, each with what it is for
    ("how much is a loaf", "$9.00 a loaf (about 900 g) or $5.00 for a half loaf.",
     "$9.00 a loaf (about 900 g) or $5.00 for a half loaf."),
])
def test_a_sentence_of_several_prices_keeps_the_one_asked_about(
        question: str, sentence: str, expected: str) -> None:
    from doppel.agents.compose.price import focus
    from doppel.language.bound import WordWeights, parse_units

    weights = WordWeights(parse_units(sentence, "Prices"))
    assert focus(sentence, analyse(question), weights) == expected


def test_a_price_column_is_found_by_its_period_in_other_words() -> None:
    from doppel.agents.compose.price import price_sentence
    from doppel.language.bound import parse_units

    row = parse_units("Plan: Senior Plus; Monthly: $49/mo; Annual (paid in full): $560", "Plans")[0]
    yearly = price_sentence(row, analyse("the senior plan if I pay for the whole year?"))
    assert "$560" in yearly and "$49" not in yearly
    assert "$49" in price_sentence(row, analyse("senior plus per month?"))


def test_the_contact_card_takes_the_business_line_not_a_departments(app: Doppel,
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "cafe"
    folder.mkdir()
    (folder / "index.md").write_text("# Millrace\n\n## Find us\n\nCafé: 01632 555 214\n"
                                     "Roastery & wholesale: 01632 555 287\n")
    (folder / "wholesale.md").write_text("# Wholesale\n\nCall the roastery line 01632 555 287.\n")
    agent, _ = app.create_agent(AgentSpec(slug="mill", name="Millrace"), [folder])
    assert agent.spec.contact.phone.endswith("555 214")


def test_rows_of_one_subject_are_told_apart_by_their_other_columns() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    rows = ("Plan: Adult Essentials; Species: Dog; Monthly: $32/mo; Annual: $365\n"
            "Plan: Adult Essentials; Species: Cat; Monthly: $27/mo; Annual: $305")
    passage = Passage(1, "plans.html", "Wellness plans", rows, 0, len(rows), 1.0, 0.6)
    spec = AgentSpec(slug="v", name="Vet")
    cat = compose("monthly price of the adult essentials plan for a cat?", [passage], spec)
    assert cat is not None and "$27" in cat.text and "$32" not in cat.text
    both = compose("how much is the adult essentials plan?", [passage], spec)
    assert both is not None and "(Dog)" in both.text and "(Cat)" in both.text


def test_the_embedded_model_does_not_draft_what_the_content_does_not_answer(
        app: Doppel, shop: Agent, fake_backend: FakeChatBackend,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A question close enough to the content to pass the relevance floor, which no fact or
    # sentence answers: the embedded 135M model is not asked to guess.
    question = "Do the rental bikes come with a child seat on the full day?"
    monkeypatch.setattr(fake_backend, "name", "embedded")
    result = ask(app, shop, question, "d1")
    assert result.path == "dont_know" and result.grounding.get("draft") == "skipped"
    assert fake_backend.calls == []
    # a remote model (or a student, or the owner's choice) drafts as before
    monkeypatch.setattr(app.settings, "draft_unsure", "on")
    ask(app, shop, question, "d2")
    assert fake_backend.calls


def test_a_sentence_about_a_person_says_who_and_a_review_is_never_the_answer() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    team = ("Dr. Rachel Lindqvist joined us in 2015. She is fluent in American Sign Language "
            "and works Tuesdays and Thursdays.")
    review = "“Dr. Lindqvist signs, which meant the world to my son!” — Tammy R., Google ★★★★★"
    passages = [Passage(1, "team.html", "Our team > Dr. Rachel Lindqvist", team, 0, 99, 1, 0.5),
                Passage(2, "index.html", "What clients say", review, 0, 99, 1, 0.6)]
    spec = AgentSpec(slug="v", name="Vet")
    got = compose("does anyone there know sign language?", passages, spec, sentence_ok=True)
    assert got is not None and got.text.startswith("Dr. Rachel Lindqvist: She is fluent"), got
    assert "Tammy" not in got.text
    tags = Passage(3, "posts.json", "Instagram posts", "#signlanguage #asl #vetlife #deaf", 0, 40,
                   1, 0.9)
    got = compose("does anyone there know sign language?", [tags, *passages], spec,
                  sentence_ok=True)
    assert got is not None and "#" not in got.text


def test_hours_from_open_and_close_columns_and_questions_in_other_words() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    table = ("Day: Saturday; Open: 8:00 AM; Close: 12:00 PM; Notes: exams only\n"
             "Day: Sunday; Open: CLOSED")
    fees = "Service: Same-day work-in fee; Price: $25"
    passages = [Passage(1, "hours.html", "Clinic hours", table, 0, 99, 1, 0.5),
                Passage(2, "fees.csv", "fees", fees, 0, 40, 1, 0.3)]
    spec = AgentSpec(slug="v", name="Vet")
    saturday = compose("are you open saturdays? I work all week", passages, spec)
    assert saturday is not None and "8:00 AM – 12:00 PM" in saturday.text, saturday
    sunday = compose("can I bring my dog in on a sunday", passages, spec)
    assert sunday is not None and sunday.text.startswith("No, we're closed on Sunday"), sunday


def test_a_holiday_list_of_dated_bullets_answers_the_day_asked() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    text = ("* Tue 24 Dec (Christmas Eve) — 7:30am to 3pm\n"
            "* Wed 25 Dec (Christmas Day) — CLOSED\n"
            "* Thu 26 Dec (Boxing Day) — 10am – 2pm (no late opening)\n"
            "Last web-order dispatch before Christmas: orders placed by 12 noon go out that day")
    passage = Passage(1, "hours.md", "Opening hours > Christmas & New Year", text, 0, 99, 1, 0.5)
    spec = AgentSpec(slug="c", name="Cafe")
    day = compose("are you open on christmas day?", [passage], spec)
    assert day is not None and day.text.startswith("No, we're closed on Wed 25 Dec"), day
    boxing = compose("popping in on boxing day, what time do you shut?", [passage], spec)
    assert boxing is not None and "10am – 2pm" in boxing.text, boxing


def test_a_dated_line_of_another_year_is_not_todays() -> None:
    """"Wed Mar 12 — CLOSED (education day)" was 2025's: 12 March 2027 is a Friday, so the
    week's Friday hours answer, not the old closure."""
    import datetime as dt

    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    text = ("Day: Friday; Hours: 9am – 7pm\nDay: Wednesday; Hours: 9am – 5pm\n"
            "Wed Mar 12: CLOSED (education day)")
    passage = Passage(1, "hours.md", "Opening hours", text, 0, 99, 1, 0.5)
    spec = AgentSpec(slug="s", name="Salon")
    got = compose("are you open on march 12?", [passage], spec, today=dt.date(2027, 3, 1))
    assert got is None or "closed" not in got.text.lower(), got
    # in 2025 the line is that day's
    then = compose("are you open on march 12?", [passage], spec, today=dt.date(2025, 3, 1))
    assert then is not None and "closed" in then.text.lower(), then


def test_an_address_without_a_street_word_is_found_by_its_postcode() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    text = ("By bus: the 72 Wendle Rider stops at Market Place.\n"
            "Millrace Coffee, The Old Bobbin Mill, 3 Mill Yard, Kirkby Wendle HG4 7RW")
    passage = Passage(1, "index.html", "Contact", text, 0, 99, 1, 0.5)
    got = compose("where are you? address please", [passage], AgentSpec(slug="c", name="C"))
    assert got is not None and "HG4 7RW" in got.text and "bus" not in got.text, got


def test_a_holiday_row_dated_in_numbers_is_no_rule_for_its_weekday() -> None:
    """"Sat 12/27 · Closed" in a holiday table closes one Saturday, not every Saturday; it
    still answers for its own date (month first, day first when it cannot be a month)."""
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    week = ("Day: Friday; Open: 7:30 AM; Close: 5:00 PM\n"
            "Day: Saturday; Open: 8:00 AM; Close: 12:00 PM")
    holidays = ("Date: Sat 12/27; Hours: Closed\n"
                "Date: Fri 28/11; Holiday: Day after Thanksgiving; Hours: 9:00 AM – 3:00 PM")
    passages = [Passage(1, "hours.html", "Holiday schedule", holidays, 0, 99, 1, 0.6),
                Passage(2, "hours.html", "Clinic hours", week, 100, 199, 1, 0.5)]
    spec = AgentSpec(slug="v", name="Vet")
    saturday = compose("what are your hours on Saturday?", passages, spec)
    assert saturday is not None and "8:00 AM – 12:00 PM" in saturday.text, saturday
    dated = compose("are you open on Saturday 27 December?", passages, spec)
    assert dated is not None and "closed" in dated.text.lower(), dated
    friday = compose("what are your hours on 28 November?", passages, spec)
    assert friday is not None and "9:00 AM – 3:00 PM" in friday.text, friday


def test_a_variant_whose_bound_leaves_out_the_customers_quantity_is_not_their_answer() -> None:
    """"I've got 10 radiators" is not answered by the "up to 8 radiators" row, "2 teeth" not by
    "4+ teeth": the price is there and belongs to another variant. The one that fits answers,
    or nothing does."""
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage
    from doppel.language.quantity import bounds, excludes, quantities

    assert bounds("Powerflush - up to 8 radiators") == {"radiator": (0.0, 8.0)}
    assert bounds("4+ teeth per quadrant")["tooth"][0] == 4.0
    assert quantities("a table for 4 at 7pm") == {}  # no things counted, no clock as a noun
    assert not excludes("can I come at 10pm?", "open up to 9pm")
    assert not excludes("anything under 20 kg?", "Bag (up to 15 kg)")  # a bound, not a count
    rows = ("Service: Powerflush - up to 8 radiators; Price: £395\n"
            "Service: Powerflush - 9 to 15 radiators; Price: £495\n"
            "Service: Scaling & root planing - 4+ teeth per quadrant; Price: $265\n"
            "Service: Scaling & root planing - 1–3 teeth per quadrant; Price: $195")
    passages = [Passage(1, "prices.csv", "Prices", rows, 0, len(rows), 1, 0.6)]
    spec = AgentSpec(slug="p", name="P")
    flush = compose("How much is a powerflush? I've got 10 radiators", passages, spec)
    assert flush is not None and "£495" in flush.text and "£395" not in flush.text, flush
    teeth = compose("how much is scaling and root planing on 2 teeth?", passages, spec)
    assert teeth is not None and "$195" in teeth.text and "$265" not in teeth.text, teeth
    none = compose("How much is a powerflush? I've got 20 radiators", passages, spec)
    assert none is None or ("£395" not in none.text and "£495" not in none.text), none


def test_a_price_row_for_other_days_is_not_the_price_on_the_day_asked() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    rows = ("When: Mon–Fri 8am – 6pm; Call-out (incl. 1st hour): £79; Each hour after: £62; "
            "Note: Standard rate\n"
            "When: Saturday 8am – 1pm; Call-out (incl. 1st hour): £99; Each hour after: £72")
    passages = [Passage(1, "prices.html", "Labour rates", rows, 0, len(rows), 1, 0.6)]
    answer = compose("Whats the hourly rate on a saturday morning once the first hour is up?",
                     passages, AgentSpec(slug="p", name="P"), sentence_ok=True)
    assert answer is not None and "£72" in answer.text and "£62" not in answer.text, answer


@pytest.mark.parametrize("question,kind", [
    ("how long does a gel manicure last?", "duration"),
    ("How much notice do you need to cancel?", "duration"),
    ("how long have you been in business?", None),  # since when, not a length
    ("how old does my puppy have to be for boarding?", "age"),
    ("what age can kids start lessons", "age"),
    ("which days is the farrier in?", "weekday"),
    ("how many people fit in the party room?", "count"),
    ("when does the spring term start?", "when"),
    ("what comes in the starter kit?", None),
    ("do you take walk-ins?", None),
    ("who owns the bakery?", "person"),
    ("what's the owner's name", "person"),
])
def test_the_kind_of_value_a_question_wants(question: str, kind: str | None) -> None:
    from doppel.language.wants import wanted

    assert wanted(question) == kind
    if "notice" in question:
        assert analyse(question).intent != "price"  # how much notice is no price question
    assert analyse("what heart rate monitor do you use?").wants is None  # no figure asked for
    assert analyse("how much is the starter kit?").wants == "money"


def _passage(text: str, heading: str = "Shop") -> object:
    from doppel.knowledge.index import Passage

    return Passage(1, "shop.html", heading, text, 0, len(text), 1.0, 0.6)


def test_a_sentence_about_the_subject_that_does_not_say_what_was_asked_is_no_answer() -> None:
    from doppel.agents.compose import compose

    spec = AgentSpec(slug="s", name="Shop")
    record = "Product: Linen Room Spray; Size: 100 ml; Price: $24.00"
    without = compose("how long does the linen room spray last?", [_passage(record)], spec,
                      sentence_ok=True)
    assert without is None  # its price is not how long it lasts: say so, don't quote it
    prose = ("The Linen Room Spray is made with essential oils. One bottle lasts about 3 months "
             "of daily use.")
    answer = compose("how long does the linen room spray last?", [_passage(record),
                                                                 _passage(prose, "Sprays")],
                     spec, sentence_ok=True)
    assert answer is not None and "3 months" in answer.text and "$24" not in answer.text
    # "how many" wants a number; a sentence of none is no answer
    assert compose("how many kids can come to a party?",
                   [_passage("Parties are great fun for kids. Ask us about themes!")], spec,
                   sentence_ok=True) is None


def test_a_typing_slip_is_read_as_the_contents_word() -> None:
    from doppel.agents.compose import compose

    menu = "Drink: Cappuccino; Small: £3.10; Large: £3.70\nDrink: Flat White; Regular: £3.40"
    answer = compose("price for a small cappucino", [_passage(menu, "Menu")],
                     AgentSpec(slug="c", name="Cafe"))
    assert answer is not None and "£3.10" in answer.text and "£3.40" not in answer.text
    from doppel.language.words import misspelt

    assert misspelt("cost", frozenset({"coat"})) is None  # short words: another word, not a slip
    assert misspelt("tinted", frozenset({"tinned", "tinter"})) is None  # not one close word


def test_a_priced_row_about_another_subject_is_never_told_as_the_answer() -> None:
    from doppel.agents.compose import compose

    spec = AgentSpec(slug="r", name="Roaster")
    kenya = "Coffee: Kenya Kiambu AA; Size: 250g; Grind: Whole Bean; Price: $12.00"
    # only another coffee's row was found: its price is not the Ethiopian's
    assert compose("how much is 250g of the ethiopian yirgacheffe, whole bean?",
                   [_passage(kenya, "Coffee")], spec, sentence_ok=True) is None
    both = kenya + "\nCoffee: Ethiopia Yirgacheffe; Size: 1kg; Grind: Whole Bean; Price: $41.00"
    answer = compose("the yirgacheffe whole bean, what does it cost?", [_passage(both, "Coffee")],
                     spec, sentence_ok=True)
    assert answer is None or "$12" not in answer.text


def test_a_price_column_without_a_currency_sign_still_answers_a_price_question() -> None:
    from doppel.agents.compose import compose

    row = ("item_code: SX511; service: Neuter; species: Dog; weight_band: 50-90 lb; "
           "price_usd: 345.00")
    answer = compose("whats it cost to neuter a 65 lb lab", [_passage(row, "fees")],
                     AgentSpec(slug="v", name="Vet"), sentence_ok=True)
    assert answer is not None and "$345.00" in answer.text


def test_a_list_of_values_keeps_the_one_asked_about() -> None:
    from doppel.agents.compose.price import focus
    from doppel.language.bound import WordWeights, parse_units

    line = "Burn times: 4 oz tin ~ 20 hrs - 8 oz jar ~ 45 hrs - 14 oz jar ~ 80 hrs."
    weights = WordWeights(parse_units(line, "Candle care"))
    kept = focus(line, analyse("how long does the 14 oz jar burn?"), weights)
    assert "80 hrs" in kept and "45 hrs" not in kept and "20 hrs" not in kept


def test_a_follow_up_about_a_size_or_it_keeps_the_subject() -> None:
    first = "how much is the everyday mug in speckled oat?"
    assert {"mug", "oat"} <= analyse("and the 16 oz?", first).words
    assert "mug" in analyse("how long until it chips?", first).words
    assert "mug" not in analyse("and the sourdough?", first).words  # its own subject


def test_someone_elses_contact_is_never_ours() -> None:
    from doppel.agents.compose import compose
    from doppel.agents.spec import Contact

    spec = AgentSpec(slug="v", name="Vet", contact=Contact(
        phone="(555) 010-0142", address="418 Tanner Street, Fenwick OH"))
    night = "After hours, call the Valley Emergency Animal Hospital (24/7)."
    answer = compose("what's their address?", [_passage(night, "Emergencies")], spec,
                     previous="where do I go for an emergency at night?")
    assert answer is None or "Tanner" not in answer.text
    ours = compose("what's your address?", [_passage(night, "Emergencies")], spec)
    assert ours is not None and "Tanner" in ours.text


def test_the_next_event_is_not_one_that_has_taken_place() -> None:
    from doppel.agents.compose import compose

    spec = AgentSpec(slug="c", name="Coach", kind="creator")
    past = "2026-11-09: FREE strength workshop at the studio Sat Nov 14, 11:15am!"
    coming = "2026-12-01: Next FREE strength workshop: Sat Dec 19, 11:15am at the studio."
    today = dt.date(2026, 12, 7)
    only_past = compose("when's the next free strength workshop?", [_passage(past, "Posts")],
                        spec, today=today, sentence_ok=True)
    assert only_past is None or "Nov 14" not in only_past.text
    both = compose("when's the next free strength workshop?",
                   [_passage(past, "Posts"), _passage(coming, "Posts")], spec, today=today,
                   sentence_ok=True)
    assert both is not None and "Dec 19" in both.text and "Nov 14" not in both.text


def test_an_address_known_by_its_postcode_fills_the_contact_card(app: Doppel,
                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "mill"
    folder.mkdir()
    (folder / "index.html").write_text(
        "<html><body><h1>Millrace</h1><p>Coffee by the river.</p><h2>Find us</h2><p>Millrace "
        "Coffee<br>The Old Bobbin Mill, 3 Mill Yard<br>Kirkby Wendle HG4 7RW</p></body></html>")
    (folder / "shipping.html").write_text(
        "<html><body><h1>Shipping</h1><p>Order #4471 ships to SW1A 1AA for £20.</p>"
        "<h2>Contact</h2><p>Millrace Coffee Ltd &middot; Kirkby Wendle HG4 7RW</p></body></html>")
    agent, _ = app.create_agent(AgentSpec(slug="mill", name="Millrace"), [folder])
    address = agent.spec.contact.address
    assert "3 Mill Yard" in address and address.endswith("HG4 7RW") and "SW1A" not in address


def test_who_runs_it_is_answered_by_a_person_not_the_business_name() -> None:
    from doppel.agents.compose import compose

    spec = AgentSpec(slug="h", name="Hollow Oak Candles")
    name_only = _passage("Hollow Oak Candles is a small-batch candle studio in Vermont.", "About")
    assert compose("who owns hollow oak candles?", [name_only], spec, sentence_ok=True) is None
    story = _passage("Hollow Oak Candles was started in 2016 by Maya Lindqvist in her kitchen.",
                     "Our story")
    answer = compose("who owns hollow oak candles?", [name_only, story], spec, sentence_ok=True)
    assert answer is not None and "Maya Lindqvist" in answer.text
    from doppel.language.wants import carries

    assert carries("person", "We are Maya and Tomás Ortega.")  # names are not only ASCII
    assert carries("person", "The studio is run by Zoë.")


def test_the_hours_of_something_else_named_are_not_the_shops() -> None:
    from doppel.agents.compose import compose

    spec = AgentSpec(slug="k", name="Kiln")
    hours = _passage("Opening hours\nSaturday: 10 am – 4 pm\nSunday: Closed", "Opening hours")
    market = _passage("Find us at the Riverside Farmers Market, Saturdays May–October, 8 am to "
                      "12:30 pm (stall 9).", "FAQ")
    answer = compose("what time is your farmers market stall on saturdays?", [hours, market],
                     spec, sentence_ok=True)
    assert answer is not None and "12:30" in answer.text and "4 pm" not in answer.text
    shop = compose("what time do you open on saturday?", [hours, market], spec)
    assert shop is not None and "10 am" in shop.text


@pytest.mark.parametrize("a,b", [("class", "classes"), ("miss", "missed"), ("pass", "passes"),
                                 ("business", "businesses"), ("bonus", "bonuses"),
                                 ("cheque", "checks"), ("bike", "bikes"), ("ship", "shipping"),
                                 ("microchip", "microchipping"), ("plan", "planned")])
def test_a_words_forms_are_one_word(a: str, b: str) -> None:
    from doppel.language.words import stem

    assert stem(a) == stem(b)


def test_a_row_named_a_little_less_but_carrying_the_question_wins_a_near_tie() -> None:
    from doppel.agents.compose import compose

    catalog = ("Classic Coconut Soy Candle — Candle. Sizes: Cedar / 4 oz Travel Tin $14.00, "
               "Cedar / 14 oz Amber Jar $38.00.\nCandle Care Kit — Accessory. Price: $42.00.")
    answer = compose("price for the small travel tin candle?", [_passage(catalog, "Products")],
                     AgentSpec(slug="c", name="Candles"))
    assert answer is not None and "$14.00" in answer.text and "$42" not in answer.text


def test_the_price_is_bound_to_the_part_of_the_question_that_asks_it() -> None:
    from doppel.agents.compose import compose

    rows = ("Service: Rabies vaccine - 1 year; Species: Dog; Price: $29.00\n"
            "Service: Rabies vaccine - 1 year; Species: Cat; Price: $39.00")
    answer = compose("is the rabies vaccine for cats the same price as for dogs? how much is it "
                     "for a cat", [_passage(rows, "Fees")], AgentSpec(slug="v", name="Vet"))
    assert answer is not None and "$39.00" in answer.text and "$29" not in answer.text


def test_a_bus_question_gets_the_line_about_the_bus() -> None:
    from doppel.agents.compose import compose

    find = _passage("Find us: 12 Quay Street, Belfast ME 04915.\nParking: free on Quay Street "
                    "after 6pm.\nBy bus: the 7 Harbor Loop stops at Custom House, two minutes "
                    "away.", "Find us")
    spec = AgentSpec(slug="b", name="Bikes")
    answer = compose("I don't drive, is there a bus that goes near you?", [find], spec)
    assert answer is not None and "Harbor Loop" in answer.text and "Parking" not in answer.text
    parking = compose("where can I park?", [find], spec)
    assert parking is not None and "after 6pm" in parking.text


def test_a_price_column_is_chosen_by_what_it_is_for_not_by_the_rows_own_name() -> None:
    from doppel.agents.compose import compose

    rows = ("Service: Nose; Category: Piercing; Piercing fee only: $40; With titanium "
            "jewellery: $70\n"
            "Service: Apprentice; Category: Tattoo hourly rates; Per hour: $100 / hr; Full-day "
            "session up to 6 hrs: $480 / day")
    spec = AgentSpec(slug="t", name="Ink")
    nose = compose("how much for a nose piercing with the jewellery?", [_passage(rows)], spec)
    assert nose is not None and "$70 with titanium jewellery" in nose.text
    assert "$40" not in nose.text and "for with" not in nose.text
    hour = compose("what does your apprentice charge an hour? trying to keep it cheap",
                   [_passage(rows)], spec)
    # "up to 6 hrs" is the day's length, not an hourly price; "$100 / hr" says its period
    assert hour is not None and "$100 / hr" in hour.text and "$480" not in hour.text
    assert "per hour" not in hour.text
    day = compose("if I book the apprentice for a full day session what does that run?",
                  [_passage(rows)], spec)
    assert day is not None and "$480" in day.text and "$100" not in day.text


def test_the_page_a_row_is_on_chooses_between_two_lists_of_the_same_dish() -> None:
    from doppel.agents.compose import compose
    from doppel.knowledge.index import Passage

    takeaway = "item: Paneer Tikka (starter); category: Starters; price_gbp: 6.25"
    menu = "Dish: Paneer Tikka; Description: Charred, with peppers.; Starter: £7.45; Main: £12.50"
    passages = [Passage(1, "takeaway.csv", "takeaway prices", takeaway, 0, 60, 1.0, 0.6,
                        title="takeaway prices"),
                Passage(2, "menu.html", "Eat-in Menu > Tandoor", menu, 0, 80, 0.9, 0.6,
                        title="Menu")]
    spec = AgentSpec(slug="r", name="Curry House")
    eat_in = compose("how much is paneer tikka as a starter if we eat in?", passages, spec)
    assert eat_in is not None and "£7.45" in eat_in.text and "6.25" not in eat_in.text
    main = compose("and the main?", passages, spec,
                   previous="how much is paneer tikka as a starter if we eat in?")
    assert main is not None and "£12.50" in main.text and "£7.45" not in main.text
    away = compose("how much is a paneer tikka starter for takeaway?", passages, spec)
    assert away is not None and "6.25" in away.text and "£7.45" not in away.text


def test_non_veg_is_not_the_veg_one() -> None:
    from doppel.agents.compose import compose

    rows = "Saffron Veg Thali – £16.95\nSaffron Non-Veg Thali – £19.50"
    answer = compose("how much is the non veg thali", [_passage(rows, "Thalis")],
                     AgentSpec(slug="s", name="Saffron"))
    assert answer is not None and "£19.50" in answer.text and "16.95" not in answer.text


def test_the_hours_of_two_counters_are_never_mixed_up() -> None:
    from doppel.agents.compose import compose

    rows = ("Day: Friday; Tattoo studio: 12:00 pm – 10:00 pm; Piercing counter: 1:00 pm – "
            "8:00 pm\nDay: Saturday; Tattoo studio: 11:00 am – 10:00 pm; Piercing counter: "
            "12:00 pm – 8:00 pm")
    spec = AgentSpec(slug="i", name="Ink")
    counter = compose("when does the piercing counter close on fridays? i get off work at 6",
                      [_passage(rows, "Regular weekly hours")], spec)
    # the counter asked about, the customer's remark aside; nothing of the studio's hours
    assert counter is not None and "8:00 pm" in counter.text and "10:00 pm" not in counter.text
    both = compose("what time do you open on saturday?", [_passage(rows, "Regular hours")], spec)
    assert both is not None
    assert "11:00 am – 10:00 pm (tattoo studio)" in both.text
    assert "12:00 pm – 8:00 pm (piercing counter)" in both.text


def test_a_bound_written_in_words_leaves_out_the_customers_quantity() -> None:
    from doppel.agents.compose import compose
    from doppel.language.quantity import excludes

    assert excludes("a 4 hour session", "under three hours the deposit is $50")
    assert not excludes("a 4 hour session", "three hours or longer, $100")
    policy = _passage("For sessions booked under three hours the deposit is $50; for sessions "
                      "of three hours or longer the deposit is $100.", "Deposits")
    spec = AgentSpec(slug="d", name="Ink")
    long = compose("how much deposit do i need for a 4 hour session", [policy], spec,
                   sentence_ok=True)
    assert long is not None and "$100" in long.text and "$50" not in long.text
    short = compose("how much is the deposit for a 2 hour session?", [policy], spec,
                    sentence_ok=True)
    assert short is not None and "$50" in short.text and "$100" not in short.text


def test_a_heading_that_states_a_price_answers_for_the_rows_under_it() -> None:
    from doppel.agents.compose import compose

    zone2 = _passage("Zone 2 – £12 travel supplement per visit\nPostcode: SK7; Towns: Bramhall, "
                     "Hazel Grove", "Areas > Zone 2 – £12 travel supplement per visit")
    zone3 = _passage("Zone 3 – £25 travel supplement per visit\nPostcode: SK9; Towns: Wilmslow, "
                     "Handforth", "Areas > Zone 3 – £25 travel supplement per visit")
    answer = compose("is there a travel charge for that?", [zone3, zone2],
                     AgentSpec(slug="p", name="Plumb"), previous="Do you cover Bramhall?",
                     sentence_ok=True)
    assert answer is not None and "£12" in answer.text and "£25" not in answer.text


def test_a_product_card_a_size_said_another_way_and_the_variant_not_wanted() -> None:
    from doppel.agents.compose import compose

    spec = AgentSpec(slug="c", name="Creator")
    card = _passage("now $149", "Shop > Veg Bed Course > Grow-Along")
    course = compose("how much is the grow-along version of the course rn?", [card], spec)
    assert course is not None and "$149" in course.text and "Grow-Along" in course.text
    sizes = _passage("Size: Wall calendar, spiral bound; Price: $18\nSize: Desk mini, easel stand; "
                     "Price: $12", "Shop > 2027 Planting Calendar")
    small = compose("how much is the small desk calendar", [sizes], spec)
    assert small is not None and "$12" in small.text and "$18" not in small.text
    halves = _passage("Dish: Roast Chicken; Half: £9.95; Full: £16.95", "Menu > Grill")
    full = compose("price for a full roast chicken? not the half", [halves], spec)
    assert full is not None and "£16.95" in full.text and "£9.95" not in full.text
    pair = _passage("Service: Ear (single); Price: $30\nService: Ears (pair); Price: $50",
                    "Piercing")
    both = compose("how much to get both ears pierced?", [pair], spec)
    assert both is not None and "$50" in both.text and "$30" not in both.text


def test_saturday_morning_asks_saturdays_hours() -> None:
    from doppel.agents.compose import compose

    hours = _passage("- Saturday: 8am – 4pm\n- Sunday: 9am – 2pm", "Hours")
    about = _passage("The ovens are on from 4 am every morning except Monday.", "About us")
    answer = compose("What time do you open on Saturday morning?", [about, hours],
                     AgentSpec(slug="b", name="Bakery"))
    assert answer is not None and "8am" in answer.text and "4 am" not in answer.text
