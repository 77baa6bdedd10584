"""Voice profiles: how an owner writes, measured from their own posts, site or FAQ.

`derive_voice(texts, kind)` returns a `VoiceProfile` (doppel.agents.profile) that the owner
reviews and edits before it is saved in `AgentSpec.voice` and feeds the prompt. Every figure is
plain statistics over the texts and deterministic (measure.py, over the word lists in
vocabulary.py). A chat backend, when given, only drafts the example replies (samples.py); each
draft must pass `example_problems` (length, no fact the texts do not contain) or is replaced by
a template reply built from the owner's own sentences, so a profile never carries an invented
price, time or name (the embedded 135M model invents them freely, MODELS.md).

Which texts an agent's voice is measured on is the service's business (`Doppel.voice_texts`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from doppel.agents.grounding import Evidence
from doppel.agents.profile import Kind, VoiceExample, VoiceProfile
from doppel.agents.voice.measure import MIN_POSTS, clean, measure_profile, posts_of
from doppel.agents.voice.samples import (
    Pick,
    draft_prompt,
    dress,
    example_problems,
    pick_examples,
    tidy,
)
from doppel.models.base import ChatBackend, Embedder, GenerationParams

__all__ = ["MAX_TEXTS", "MIN_POSTS", "VoiceExample", "VoiceProfile", "clean", "derive_voice",
           "derive_voice_async", "example_problems"]

MAX_TEXTS = 2000  # measured per profile; more only costs time


async def derive_voice_async(texts: Sequence[str], kind: Kind, *,
                             backend: ChatBackend | None = None,
                             embedder: Embedder | None = None, seed: int = 0) -> VoiceProfile:
    """The voice profile of `texts`; the backend, if any, drafts the example replies.

    The statistics and the embedding run in a worker thread, so a server's event loop keeps
    answering; at most MAX_TEXTS texts are measured (a voice shows in far fewer)."""

    def measure() -> tuple[VoiceProfile, Evidence, list[Pick]]:
        posts = posts_of(texts[:MAX_TEXTS])
        profile = measure_profile(posts, kind)
        picks = pick_examples(posts, profile, kind, embedder)
        return profile, Evidence(p.text for p in posts), picks

    profile, evidence, picks = await asyncio.to_thread(measure)
    examples = []
    for i, pick in enumerate(picks):
        reply = ""
        if backend is not None:
            params = GenerationParams(max_tokens=80, temperature=0.3, top_p=0.9,
                                      repeat_penalty=1.1, seed=seed + i, stop=("\n",))
            result = await backend.chat(draft_prompt(pick, profile, kind), params)
            body = tidy(result.text)
            reply = dress(body, profile) if body and result.finish_reason != "length" else ""
        if not reply or example_problems(reply, evidence, pick.question, pick.sentence):
            reply = dress(pick.sentence, profile)  # the owner's own sentence
            if example_problems(reply, evidence, pick.question):
                continue  # trips the checks anyway (a stray capital, say): leave it out
        examples.append(VoiceExample(question=pick.question, reply=reply))
    profile.examples = examples
    return profile


def derive_voice(texts: Sequence[str], kind: Kind, *, backend: ChatBackend | None = None,
                 embedder: Embedder | None = None, seed: int = 0) -> VoiceProfile:
    """Sync wrapper of derive_voice_async (not from inside a running event loop)."""
    return asyncio.run(derive_voice_async(texts, kind, backend=backend, embedder=embedder,
                                          seed=seed))
