"""Shields on input and output: the Llama Guard 3 hazard taxonomy, prompt injection (also hidden
in documents), private data and the owner's own rules. See pipeline.py for how they wrap a turn.
"""

from __future__ import annotations

from doppel.safety.base import (
    SHIELDS,
    Shield,
    ShieldContext,
    ShieldFactory,
    ShieldReport,
    ShieldServices,
    ShieldUnavailable,
    SyncShield,
    Verdict,
    public_shields,
)
from doppel.safety.brand import BrandShield
from doppel.safety.hazard import HazardShield, TopicsShield
from doppel.safety.injection import InjectionShield, JailguardShield, LeakageShield
from doppel.safety.pii import PiiShield
from doppel.safety.pipeline import Shields, refusal, rewritten
from doppel.safety.policy import CustomCategory, LlamaGuardChoice, ShieldPolicy
from doppel.safety.taxonomy import HAZARDS

__all__ = [
    "HAZARDS", "SHIELDS", "CustomCategory", "LlamaGuardChoice", "Shield", "ShieldContext",
    "ShieldFactory", "ShieldPolicy", "ShieldReport", "ShieldServices", "ShieldUnavailable",
    "Shields", "SyncShield", "Verdict", "public_shields", "refusal", "rewritten",
]


def _llamaguard(services: ShieldServices) -> Shield:
    from doppel.safety.llamaguard import LlamaGuardShield

    return LlamaGuardShield(services.settings.llamaguard_endpoints)


_IN, _OUT, _BOTH = frozenset({"input"}), frozenset({"output"}), frozenset({"input", "output"})
for _factory in (
    ShieldFactory("hazard", lambda s: HazardShield(s.safety_models), _BOTH,
                  "Llama Guard 3 categories S1-S14, embedded MiniLM classifier"),
    ShieldFactory("injection", lambda s: InjectionShield(s.safety_models), _IN,
                  "prompt injection and jailbreaks: doppel's rules + embedded classifier"),
    ShieldFactory("jailguard", lambda s: JailguardShield(s.settings.models_dir, s.safety_models),
                  _IN,
                  "jailguard prompt-injection detector (offline, MiniLM + MLP)"),
    ShieldFactory("topics", lambda s: TopicsShield(s.get_embedder()), _BOTH,
                  "the owner's custom categories and forbidden topics"),
    ShieldFactory("brand", lambda s: BrandShield(s.safety_models), _OUT,
                  "never praise or recommend a competitor the owner named"),
    ShieldFactory("pii", lambda s: PiiShield(), _OUT,
                  "redacts third parties' e-mails, phones, cards and addresses"),
    ShieldFactory("leakage", lambda s: LeakageShield(), _OUT,
                  "blocks answers that recite the agent's instructions"),
    ShieldFactory("llamaguard", _llamaguard, _BOTH,
                  "Llama Guard 3 on the operator's OpenAI-compatible server the agent picks "
                  "(DOPPEL_LLAMAGUARD_ENDPOINTS, policy.llamaguard.endpoint)"),
):
    SHIELDS.register(_factory)
