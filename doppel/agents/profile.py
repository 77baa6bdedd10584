"""The voice profile: how an owner writes, as the owner reviews, edits and saves it in
`AgentSpec.voice`. Plain data; measuring it from texts is doppel.agents.voice's job."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Kind", "VoiceExample", "VoiceProfile"]

Kind = Literal["creator", "business"]


class VoiceExample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    reply: str


class VoiceProfile(BaseModel):
    """How the owner writes. Plain fields: the console shows each one in an edit form."""

    model_config = ConfigDict(extra="forbid")

    posts: int = Field(0, ge=0, description="Texts the profile was measured on.")
    languages: list[str] = Field(default_factory=list, description="ISO codes, most used first.")
    person: Literal["I", "we", "mixed"] = "mixed"
    typical_words: int = Field(0, ge=0, description="Median words per post or reply.")
    sentence_words: float = Field(0.0, ge=0, description="Median words per sentence.")
    formality: Literal["casual", "neutral", "formal"] = "neutral"
    formality_score: float = Field(0.5, ge=0, le=1, description="0 very casual, 1 very formal.")
    emoji_rate: float = Field(0.0, ge=0, description="Emoji per post.")
    emojis: list[str] = Field(default_factory=list, description="Most used emoji.")
    exclamation_rate: float = Field(0.0, ge=0, le=1, description="Share of sentences with '!'.")
    question_rate: float = Field(0.0, ge=0, le=1, description="Share of sentences with '?'.")
    caps_rate: float = Field(0.0, ge=0, le=1,
                             description="Share of posts with an ALL-CAPS word (3+ letters).")
    hashtag_rate: float = Field(0.0, ge=0, description="Hashtags per post.")
    hashtags: list[str] = Field(default_factory=list)
    greetings: list[str] = Field(default_factory=list)
    sign_offs: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list, description="Recurring across posts.")
    topics: list[str] = Field(default_factory=list)
    value_words: list[str] = Field(default_factory=list, description="e.g. handmade, local.")
    values: list[str] = Field(default_factory=list, description="Stated values, as written.")
    examples: list[VoiceExample] = Field(default_factory=list)
    description: str = ""

    def tone(self) -> str:
        """"casual", "formal, upbeat"...: the register, and upbeat at one '!' in 4 sentences."""
        return self.formality + (", upbeat" if self.exclamation_rate >= 0.25 else "")
