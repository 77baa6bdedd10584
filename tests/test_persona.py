"""Voice profiles: statistics on a creator's posts and a business's FAQ, example replies (drafts
kept or dropped by the filter), the agent's texts from the store, the prompt's voice section,
and the spec's YAML with a voice. One test runs the real embedded model."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from doppel.agents.grounding import Evidence, check
from doppel.agents.profile import VoiceExample, VoiceProfile
from doppel.agents.prompt import (
    VOICE_TOKENS,
    build_prompt,
    estimate_tokens,
    instructions,
    voice_section,
)
from doppel.agents.spec import AgentSpec
from doppel.agents.voice import derive_voice, example_problems
from doppel.config import Settings
from doppel.errors import ValidationError
from doppel.models.base import ChatMessage, ChatResult, GenerationParams
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

# A baker and ceramicist's posts, as the social importers store them ("date: text").
CREATOR = [
    "2024-05-03: hey fam! 🥐 Fresh out of the oven this morning: cardamom buns with orange zest. "
    "Everything here is handmade in small batches, so grab them early! xoxo #smallbatch "
    "#sourdough",
    "hey fam, new mugs just came out of the kiln ✨ I throw every single one by hand on my "
    "wheel. Shop opens Friday! xoxo #ceramics #handmade",
    "Hi friends! Sourdough day in the studio kitchen 🍞 My starter Doug is 6 years old now and "
    "still bubbly. xoxo #sourdough",
    "hey fam! Glazing day. I mix my own glazes from local clay and wood ash, never anything "
    "from a tube. So excited to show you 😍 xoxo #ceramics",
    "I believe slow bread and slow pots are worth the wait. No shortcuts, ever. xoxo",
    "hey fam! 🥐 Croissant lamination is a labour of love: three days, lots of butter and "
    "patience! see you Saturday! #smallbatch",
    "Farmers market this Saturday at the old mill 🧺 I'll have sourdough loaves, cardamom buns "
    "and a few seconds mugs! see you Saturday!",
    "hey fam!!! The mug restock SOLD OUT in an hour 😭 thank you so much, truly. More in small "
    "batches soon. xoxo #handmade",
    "Quick tip: feed your starter twice a day when it's warm in the kitchen. Your bread will "
    "thank you 🍞 #sourdough #bakingtips",
    "Hi friends! Kiln opening video is up on my page, link in bio ✨ "
    "https://example.com/kiln @claycollective",
    "🥐🥐🥐",
    "hey fam! I care about using local flour from the valley mill, always organic and always "
    "stone-ground. xoxo #sourdough",
    "New speckled bowls fresh out of the kiln! Each one is handmade and a little different 🥣 "
    "#ceramics #handmade",
    "hey fam! Rainy studio day ☔ trimming bowls and baking focaccia. Life is good. xoxo",
    "Your questions answered: yes, the mugs are dishwasher safe, and no, I don't ship bread! "
    "see you Saturday! 😊",
    "hey fam! Cardamom buns are back this weekend 🥐 small batch as always, so come early! xoxo "
    "#smallbatch",
    "Hi friends! Wheel throwing workshop spots open next month, only 6 seats per class ✨ link "
    "in bio #ceramics",
    "✨🍞✨",
    "hey fam! Everything I make is handmade, slow and small batch. That's the whole point 💛 "
    "xoxo #handmade",
    "Behind the scenes: shaping sourdough loaves at 5 am 🍞 the studio smells amazing. see you "
    "Saturday!",
]

# A bakery's site text and FAQ (as Doppel.voice_texts returns them: FAQ answers only).
BUSINESS_FAQ = [
    ("Do you offer gluten-free bread?", "We offer a gluten-free loaf on Fridays and Saturdays. "
     "Please note that our kitchen handles wheat flour, so we cannot guarantee the absence of "
     "cross-contamination."),
    ("Can I place a custom cake order?", "Custom cakes require at least five days' notice. "
     "Please submit a request through our website, and our team will provide a quote within "
     "two business days."),
    ("Do you deliver?", "We do not offer delivery at this time. Orders may be collected at the "
     "counter during opening hours."),
    ("Is there parking?", "Street parking is available on Alder Street. Additional parking is "
     "available at the Millbrook Public Library after 5 pm."),
    ("Do you cater events?", "We provide catering for events of up to 60 guests. Please "
     "contact us at least two weeks in advance to discuss your requirements."),
    ("Are your products suitable for vegans?", "Several of our breads are vegan. Please ask a "
     "member of our team for the current list, as recipes may change with the seasons."),
    ("Can I reserve a table?", "We do not take reservations. Seating is available on a "
     "first-come, first-served basis."),
    ("How should I store your bread?", "We recommend storing bread in a paper bag at room "
     "temperature for up to two days. For longer storage, please slice and freeze the loaf."),
    ("Do you sell gift cards?", "Gift cards are available in store in any amount. They do not "
     "expire."),
    ("What payment methods do you accept?", "We accept all major credit cards, contactless "
     "payments and cash."),
]
BUSINESS_SITE = [
    "Juniper & Rye is a family-run bakery in Millbrook. We bake everything on site, from "
    "scratch, every morning, using flour from a local mill.",
    "We believe good bread takes time. Our sourdough is fermented for 36 hours, and we never "
    "use preservatives or bread improvers.",
    "Our coffee is roasted by an independent roaster in Portland. We serve seasonal specials "
    "throughout the year.",
    "We are committed to reducing waste. Unsold bread is donated to the Millbrook Community "
    "Pantry at the end of each day.",
    "Our team of eleven bakers and baristas is proud to serve the Eastside neighbourhood. Thank "
    "you for your continued support.",
    "Seasonal pastries change every month and always feature fruit from local farms.",
]
BUSINESS = BUSINESS_SITE + [answer for _, answer in BUSINESS_FAQ]


@pytest.fixture(scope="module")
def creator() -> VoiceProfile:
    return derive_voice(CREATOR, "creator")


@pytest.fixture(scope="module")
def business() -> VoiceProfile:
    return derive_voice(BUSINESS, "business")


# --- statistics ---------------------------------------------------------------------------------

def test_creator_profile(creator: VoiceProfile) -> None:
    p = creator
    assert (p.posts, p.languages, p.person, p.formality) == (20, ["en"], "I", "casual")
    assert p.formality_score < 0.4
    assert (p.typical_words, p.sentence_words) == (17, 11.0)
    assert (p.emoji_rate, p.emojis[:3]) == (1.1, ["🥐", "✨", "🍞"])
    assert (p.exclamation_rate, p.question_rate, p.caps_rate) == (0.25, 0.0, 0.05)
    assert (p.hashtag_rate, p.hashtags) == (0.8, ["sourdough", "ceramics", "handmade",
                                                  "smallbatch"])
    assert p.greetings == ["hey fam", "Hi friends"]
    assert p.sign_offs == ["xoxo", "see you Saturday!"]
    # "small batch" and "small batches" are one phrase; "hey fam" is a greeting, not a phrase
    assert p.phrases == ["small batches", "cardamom buns", "link in bio", "sourdough loaves"]
    assert p.topics[:4] == ["mugs", "cardamom", "buns", "kiln"]
    assert p.value_words == ["small batch", "handmade", "local", "organic"]
    assert p.values[:3] == [
        "I believe slow bread and slow pots are worth the wait.",
        "I care about using local flour from the valley mill, always organic and always "
        "stone-ground.",
        "I mix my own glazes from local clay and wood ash, never anything from a tube."]
    assert p.description.startswith('A casual, upbeat creator voice in English, writing as "I".')
    assert 'opens with "hey fam" and signs off with "xoxo"' in p.description
    # the importer's date, the URL and the @mention are not part of the voice
    everything = " ".join(p.phrases + p.topics + p.values + [e.reply for e in p.examples])
    assert not re.search(r"2024|example\.com|claycollective|https", everything)


def test_business_profile(business: VoiceProfile) -> None:
    p = business
    assert (p.posts, p.languages, p.person, p.formality) == (16, ["en"], "we", "formal")
    assert p.formality_score > 0.6
    assert (p.typical_words, p.sentence_words) == (20, 10.0)
    assert (p.emoji_rate, p.emojis, p.exclamation_rate, p.hashtags) == (0.0, [], 0.0, [])
    assert p.greetings == [] and p.sign_offs == []
    assert p.topics[:4] == ["bread", "Millbrook", "flour", "loaf"]  # a name keeps its capital
    assert p.value_words[:4] == ["local", "seasonal", "from scratch", "family-run"]
    assert p.values[:2] == ["We believe good bread takes time.",
                            "We are committed to reducing waste."]
    assert p.description.startswith('A formal business voice in English, writing as "we".')


def test_too_little_text_is_refused() -> None:
    for texts in ([], ["hey fam!"], ["hey fam!", "  ", "hey fam!", "2024-05-03: xoxo"]):
        n = len({t.strip().removeprefix("2024-05-03: ") for t in texts if t.strip()})
        with pytest.raises(ValidationError, match=re.escape(
                f"not enough text to derive a voice ({n} posts; at least 3 needed)")):
            derive_voice(texts, "creator")
    with pytest.raises(ValidationError, match="none with words"):
        derive_voice(["🥐", "✨✨", "🍞 🍞"], "creator")


def test_emoji_only_and_mixed_language_posts() -> None:
    posts = ["🥐🥐", "✨", "¡Hola amigos! El pan de masa madre sale del horno a las nueve. 🍞",
             "Hoy hacemos pan con harina local y mucho cariño para la familia. 🍞",
             "Fresh sourdough is out of the oven and the studio smells like bread. 🍞",
             "Hola amigos, el mercado es el sábado y tenemos pan para todos. 🍞"]
    p = derive_voice(posts, "creator")
    assert p.posts == 6 and p.languages == ["es", "en"]
    assert p.emojis[0] == "🍞" and p.emoji_rate == 1.17
    assert p.greetings == ["Hola amigos"]
    assert p.typical_words == 12  # the median counts the emoji-only posts as 0 words
    assert 1 <= len(p.examples) <= 5


def test_phrases_recur_across_posts_not_within_one() -> None:
    posts = ["wood fired wood fired wood fired wood fired, what a week in the studio",
             "glaze test tiles came out glossy, see @potterfriend and https://x.example/a",
             "glaze test tiles again today, check @potterfriend https://x.example/a",
             "new glaze test tiles for the spring mugs",
             "all of the mugs sold out in the first hour of the market",
             "the start of the week and all of the kilns are full"]
    p = derive_voice(posts, "creator")
    assert p.phrases == ["glaze test tiles"]  # not "wood fired" (one post), not "all of the"
    assert "potterfriend" not in p.topics and "example" not in p.topics


# --- example replies ----------------------------------------------------------------------------

def test_template_examples_are_the_owners_own_sentences(creator: VoiceProfile) -> None:
    assert 3 <= len(creator.examples) <= 5
    evidence = Evidence(CREATOR)
    for example in creator.examples:
        assert example.reply.startswith("hey fam! ") and example.reply.endswith(" xoxo")
        body = example.reply.removeprefix("hey fam! ").removesuffix(" xoxo")
        assert any(body.rstrip(" 🥐.")[:40] in post for post in CREATOR), body
        assert example_problems(example.reply, evidence, example.question) == []
    assert creator.examples[0].question == "What can you tell me about mugs?"


def _note(messages: Sequence[ChatMessage]) -> str:
    return re.search(r"Note: (.*)\n", messages[-1].content).group(1)  # type: ignore[union-attr]


def test_model_drafts_that_pass_are_kept() -> None:
    backend = FakeChatBackend(lambda messages: "Yes! " + _note(messages))
    p = derive_voice(CREATOR, "creator", backend=backend)
    assert len(backend.calls) == len(p.examples) >= 3
    for example, call in zip(p.examples, backend.calls):
        assert example.reply.startswith("hey fam! Yes! "), example.reply
        assert example.question == call[-1].content.splitlines()[0].removeprefix("Question: ")
    system = backend.calls[0][0].content
    assert 'a short, casual, friendly reply to a fan, speaking as "I"' in system


def test_model_drafts_with_invented_figures_fall_back_to_templates(
        creator: VoiceProfile) -> None:
    invented = ["Our mugs are $45 each and the buns are $4.50!",
                "The studio is open from 9 am to 6 pm on Sundays.",
                "Call me at 555-0199 to order a cake.",
                "I'm sorry, but as an AI I cannot share that."]
    backend = FakeChatBackend(invented)
    p = derive_voice(CREATOR, "creator", backend=backend)
    assert p.examples == creator.examples  # every draft dropped: the template replies
    evidence = Evidence(CREATOR)
    problems = [example_problems(text, evidence, "Where can I get your work?")
                for text in invented]
    assert "not in the texts: money '$45'" in problems[0]
    assert "not in the texts: time '9 am'" in problems[1]
    assert any(p.startswith("not in the texts: phone") for p in problems[2])
    assert "apologises or refuses" in problems[3]


def test_example_filter() -> None:
    evidence = Evidence(CREATOR)
    ok = "Cardamom buns are back this weekend, small batch as always, so come early!"
    assert example_problems(ok, evidence) == []
    assert example_problems("Seats are 6 per class in the workshop.", evidence) == []
    assert example_problems("Seats are 8 per class in the workshop.", evidence) == [
        "not in the texts: number '8'"]
    assert "too short" in example_problems("Yes!", evidence)
    assert "too long" in example_problems(" ".join([ok] * 6), evidence)
    assert "unfinished" in example_problems("Here is how to feed your starter:", evidence)
    assert "repeats the question" in example_problems(
        "What inspires you? What inspires you?", evidence, "What inspires you?")
    assert any(p.startswith("words the owner never used") for p in example_problems(
        "Our vegan gluten-free pizza recipe uses miso and sesame.", evidence))
    note = "Quick tip: feed your starter twice a day when it's warm in the kitchen."
    assert example_problems("The quick tip is a great one.", evidence, note=note) == [
        "leaves out what the note says"]


def test_derivation_is_deterministic() -> None:
    backend = FakeChatBackend(lambda messages: "Yes! " + _note(messages))
    runs = [derive_voice(CREATOR, "creator", backend=backend, embedder=FakeEmbedder(), seed=3)
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert derive_voice(BUSINESS, "business") == derive_voice(list(BUSINESS), "business")


def test_embedder_picks_sentences_by_meaning() -> None:
    p = derive_voice(BUSINESS, "business", embedder=FakeEmbedder())
    assert 3 <= len(p.examples) <= 5
    assert len({e.reply for e in p.examples}) == len(p.examples)
    assert all(e.reply in " ".join(BUSINESS) for e in p.examples)  # formal: no dressing


# --- texts from the store -----------------------------------------------------------------------

def _add_document(app: Doppel, agent_id: int, source: str, loader: str,
                  texts: list[str]) -> None:
    """Stores chunks as a social importer would (written directly: the loaders are tested
    with the loaders)."""
    blob = np.zeros(app.embedder.dim, dtype=np.float32).tobytes()  # type: ignore[attr-defined]
    with app.db.transaction() as tx:
        doc = tx.execute("INSERT INTO documents(agent_id, source, loader, sha256, n_chunks) "
                         "VALUES (?, ?, ?, ?, ?)", (agent_id, source, loader,
                                                    hashlib.sha256(source.encode()).hexdigest(),
                                                    len(texts))).lastrowid
        for i, text in enumerate(texts):
            tx.execute("INSERT INTO chunks(agent_id, document_id, ord, text, start_offset, "
                       "end_offset, embedding) VALUES (?, ?, ?, ?, 0, ?, ?)",
                       (agent_id, doc, i, text, len(text), blob))


def test_texts_for_voice(app: Doppel, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "faq.yaml").write_text("\n".join(
        f"- question: {q!r}\n  answer: {a!r}" for q, a in BUSINESS_FAQ[:3]))
    (folder / "about.md").write_text("# About\n\n" + "\n\n".join(BUSINESS_SITE[:2]))
    (folder / "prices.csv").write_text("item,price\nCountry Sourdough,9.00\n")
    shop = app.agents.create(AgentSpec(slug="shop", name="Shop"))
    app.ingestor.ingest(shop, [folder])
    texts = app.voice_texts(shop.id, "business")
    assert all(a in texts for _, a in BUSINESS_FAQ[:3])  # answers only, for the tone
    assert not any("Q:" in t or "9.00" in t for t in texts)  # no questions, no price list
    assert any("family-run bakery" in t for t in texts)
    assert app.voice_texts(shop.id, "creator") == texts  # no posts: everything

    mia = app.agents.create(AgentSpec(slug="mia", name="Mia", kind="creator"))
    app.ingestor.ingest(mia, [folder])
    _add_document(app, mia.id, "posts.json", "instagram", CREATOR[:12])
    _add_document(app, mia.id, "tweets.js", "x", ["2024-06-01: (reply to @sam) hey fam! "
                                                   "Thank you, see you Saturday!"])
    texts = app.voice_texts(mia.id, "creator")
    assert len(texts) == 13 and texts[0].startswith("hey fam! 🥐 Fresh out of the oven")
    assert texts[-1] == "hey fam! Thank you, see you Saturday!"
    assert derive_voice(texts, "creator").greetings[0] == "hey fam"


# --- the prompt ---------------------------------------------------------------------------------

def _spec(voice: VoiceProfile | None) -> AgentSpec:
    return AgentSpec(slug="mia", name="Mia's Kitchen", kind="creator", voice=voice,
                     persona="Warm and chatty.")


def test_prompt_carries_a_compact_voice_section(creator: VoiceProfile) -> None:
    section = voice_section(creator)
    assert section.splitlines()[0] == 'Tone: casual, upbeat, as "I".'  # the sample shows the rest
    assert section.splitlines()[1].startswith('Sample reply: "hey fam! ')
    assert not re.search(r"\d", section)  # a sample without figures is preferred
    backend = FakeChatBackend()
    assert estimate_tokens(section) <= VOICE_TOKENS
    assert backend.count_tokens(section) <= VOICE_TOKENS
    built = build_prompt(_spec(creator), "Do you ship?", [], [], backend,
                         max_answer_tokens=160, passage_budget=400)
    system = built.messages[0].content
    assert section in system and system.index("Voice: Warm") < system.index(section)
    # The leakage shield guards instructions(): a sample reply is the owner's own words.
    assert section not in instructions(_spec(creator))
    plain = build_prompt(_spec(None), "Do you ship?", [], [], backend,
                         max_answer_tokens=160, passage_budget=400)
    assert plain.messages[0].content == instructions(_spec(None))  # unchanged without a voice


def test_voice_section_drops_parts_to_fit(creator: VoiceProfile) -> None:
    long_reply = "hey fam! " + " ".join(["Handmade mugs fresh out of the kiln!"] * 8) + " xoxo"
    voice = creator.model_copy(update={"examples": [VoiceExample(question="?", reply=long_reply)]})
    assert voice_section(voice) == ('Tone: casual, upbeat, as "I"; open with "hey fam"; '
                                    'sign off "xoxo"; emoji 🥐 ✨.')
    shorter = 'Tone: casual, upbeat, as "I"; open with "hey fam".'
    assert voice_section(voice, budget=estimate_tokens(shorter)) == shorter
    assert voice_section(voice, budget=5) == ""


def test_voice_reaches_the_turn_prompt(app: Doppel, fake_backend: FakeChatBackend,
                                       creator: VoiceProfile, tmp_path: Path) -> None:
    (tmp_path / "posts.md").write_text("\n\n".join(CREATOR))
    app.settings.min_relevance = 0.0
    app.settings.compose_answers = False  # the model must draft: its prompt is under test
    agent = app.agents.create(_spec(creator))
    app.ingestor.ingest(agent, [tmp_path / "posts.md"])
    assert app.agents.get("mia").spec.voice == creator  # stored and loaded with the spec
    fake_backend.script = ["Cardamom buns are back this weekend!"]
    asyncio.run(app.runtime.turn(agent, "Are the cardamom buns back?", "t1"))
    assert voice_section(creator) in fake_backend.calls[0][0].content


# --- the spec -----------------------------------------------------------------------------------

def test_spec_yaml_round_trip_with_a_voice(creator: VoiceProfile) -> None:
    spec = _spec(creator)
    again = AgentSpec.from_yaml(spec.to_yaml())
    assert again == spec and again.voice == creator
    old = AgentSpec.from_yaml("slug: bakery\nname: Corner Bakery\npersona: Friendly.\n")
    assert old.voice is None and old.persona == "Friendly."
    data = spec.model_dump()
    data["voice"]["mood"] = "sunny"
    with pytest.raises(ValidationError, match=r"^voice\.mood: Extra inputs"):
        AgentSpec.parse(data)
    data["voice"].pop("mood")
    data["voice"]["formality"] = "posh"
    with pytest.raises(ValidationError, match=r"^voice\.formality:"):
        AgentSpec.parse(data)


# --- the real embedded model --------------------------------------------------------------------

@pytest.mark.model
def test_real_model_examples_pass_the_filter(model_settings: Settings,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever SmolLM2-135M drafts, the profile's examples state no figure absent from the
    posts: kept drafts passed the filter, the rest are the owner's own sentences."""
    from doppel.models import load_backend, load_embedder

    backend = load_backend(model_settings, "embedded")
    embedder = load_embedder(model_settings)
    drafts: list[str] = []
    chat = backend.chat

    async def recording(messages: Sequence[ChatMessage], params: GenerationParams) -> ChatResult:
        result = await chat(messages, params)
        drafts.append(result.text)
        return result

    monkeypatch.setattr(backend, "chat", recording)
    runs: list[tuple[list[str], Literal["creator", "business"]]] = [
        (CREATOR, "creator"), (BUSINESS, "business")]
    for texts, kind in runs:
        drafts.clear()
        p = derive_voice(texts, kind, backend=backend, embedder=embedder, seed=7)
        assert 3 <= len(p.examples) <= 5 and len(drafts) == len(p.examples), p.examples
        evidence = Evidence(texts)
        for example in p.examples:
            assert example_problems(example.reply, evidence, example.question) == [], example
            verdict = check(example.reply, evidence)
            assert not verdict.unsupported and not verdict.contradictions, example
        section = voice_section(p)
        assert section and backend.count_tokens(section) <= VOICE_TOKENS


def test_all_caps_posts_are_measured() -> None:
    """A regex once took exponential time on a run of capitals (12 s for 40 characters,
    minutes for 60): this profile would not finish."""
    shouting = ["WE ARE OPENING THE NEW BAKERY ON SATURDAY WITH MORE BREAD THAN EVER BEFORE AND "
                "YOU ARE ALL INVITED TO THE PARTY!"] * 3 + CREATOR[:5]
    assert derive_voice(shouting, "creator").posts == 6  # identical posts count once
