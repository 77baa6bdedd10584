"""The one sentence splitter and the content words every module compares text by."""

from __future__ import annotations

from doppel.language.words import content_words, sentences


def test_spellings_and_shorthand_are_one_word() -> None:
    assert content_words("Do you take cheques?") & content_words("We accept checks.")
    assert content_words("what colours") == content_words("what colors")
    assert content_words("my appt") == content_words("my appointment")


def test_ordinals_are_their_numbers() -> None:
    assert "15" in content_words("open on October 15th?")
    assert "th" not in content_words("open on October 15th?")


def test_a_flattened_numbered_list_keeps_its_numbers_with_their_items() -> None:
    text = ("Knocked-out tooth — act fast! 1. Pick it up by the crown. 2. Rinse it. "
            "It costs $5. Then call.")
    assert sentences(text) == ["Knocked-out tooth — act fast!", "1. Pick it up by the crown.",
                               "2. Rinse it.", "It costs $5.", "Then call."]


def test_a_trade_word_is_not_a_foreign_stopword() -> None:
    assert "pour" in content_words("Pour your own candle")


def test_markdown_shows_html_entities_as_the_page_would() -> None:
    from doppel.knowledge.loaders.files import MarkdownLoader

    doc = MarkdownLoader().load(b"# Hire\n\nBring your own wine &mdash; no corkage &amp; no fee.\n",
                                "events.md")
    text = " ".join(u.text if hasattr(u, "text") else str(u) for s in doc.sections
                    for u in s.units)
    assert "wine — no corkage & no fee" in text and "&mdash;" not in text


def test_a_customers_word_and_the_policy_pages_are_one() -> None:
    assert content_words("kids cleaning") == content_words("Child cleaning")
    assert "accessibl" in content_words("I use a wheelchair") & content_words(
        "Accessibility: step-free entrance")
    assert content_words("reservations") == content_words("bookings")
    assert content_words("delivery") == content_words("shipping")


def test_a_phrase_said_in_one_word_is_that_word() -> None:
    from doppel.knowledge.index import query_terms

    assert content_words("We do not accept American Express.") & content_words("do u take amex")
    assert content_words("can I get my money back") == content_words("refund")
    assert {"american", "express"} <= set(query_terms("Do you take amex?"))


def test_holidays_and_asides() -> None:
    from doppel.language.bound import holiday_dates, polarity

    assert holiday_dates("open the Friday after Thanksgiving?") == {"h:black-friday"}
    assert holiday_dates("closed Thanksgiving Day") == {"h:thanksgiving"}
    assert polarity("Scratchpay is accepted (approval is up to them, not us).") == 1
    assert polarity("We do not accept cheques (sorry).") == -1


def test_the_answer_scorer_reads_a_time_with_its_am_pm() -> None:
    from doppel.evaluation.answers import contains

    assert contains("open 8:30am – 5pm", "8:30") and contains("from 5pm", "5")
    assert not contains("9:30am", "9") and not contains("19:30", "9:30")


def test_titles_abbreviations_and_dot_leaders_end_no_sentence() -> None:
    assert sentences("Ask Dr. Okafor. She is in on Mondays.") == [
        "Ask Dr. Okafor.", "She is in on Mondays."]
    assert sentences("Almond croissant ... £3.20") == ["Almond croissant ... £3.20"]
    assert sentences("We open at 9. Closed Sundays.") == ["We open at 9.", "Closed Sundays."]
