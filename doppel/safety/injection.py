"""Prompt injection and jailbreaks: in customers' messages, and hidden in the owner's documents.

Three detectors, combined by the policy:
- doppel's own rules (`heuristic_score`): phrases that only make sense addressed to a model
  ("ignore previous instructions", "reveal your system prompt", fake role markers such as
  ``<|im_start|>system`` or ``[INST]``, notes "to AI assistants"), also after decoding base64;
- the embedded classifier's ``injection`` class (see classifier.py);
- jailguard (a MiniLM + MLP detector, offline once pointed at doppel's MiniLM export).

Documents are scanned line by line at ingest time; the flagged spans are stored with the chunk
and cut out at prompt time (`neutralise`), and every passage is quoted to the model as data.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from doppel.models.base import Embedder
from doppel.safety.base import ShieldContext, ShieldUnavailable, SyncShield, Verdict
from doppel.safety.hazard import classifier_probs

_P = re.IGNORECASE | re.MULTILINE
_VERB = r"(ignore|disregard|forget|override|bypass|skip|drop|discard|abandon|set aside)"
_OBJECT = (r"(instructions?|rules|guidelines|guidance|directives?|prompts?|constraints|"
           r"restrictions|polic(y|ies)|programming|directions|context|system message)")
RULES: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (re.compile(rf"\b{_VERB}\b[^.\n]{{0,40}}\b(previous|prior|above|earlier|preceding|"
                rf"initial|original|all|any|your|the|these|those|existing|current)\b"
                rf"[^.\n]{{0,25}}\b{_OBJECT}", _P), 0.97, "override of instructions"),
    (re.compile(r"\b(reveal|show|print|repeat|output|display|leak|dump|disclose|recite|tell me|"
                r"what (is|are|were)|give me|share|copy)\b[^.\n]{0,30}\b(your|the|its|my)\s+"
                r"(\w+\s+){0,2}(system|hidden|initial|original|secret|internal|developer|"
                r"pre-?)\s*(prompt|instructions|message|rules|configuration)", _P), 0.95,
     "system prompt extraction"),
    (re.compile(r"\b(repeat|print|output)\b[^.\n]{0,30}\b(text|words|everything)\b[^.\n]{0,20}"
                r"\b(above|before|preceding|starting with)", _P), 0.9, "prompt echo"),
    (re.compile(r"<\|?(im_start|im_end|system|assistant|eot_id|start_header_id|endoftext)\|?>|"
                r"\[/?INST\]|<</?SYS>>|^\s*#{2,}\s*(system|instruction|new instructions)\b|"
                r"^\s*(system|developer)\s*(prompt|message)?\s*:|</(document|context|passage|"
                r"system)>", _P), 0.95, "fake role marker"),
    (re.compile(r"\b(note|message|instructions?|attention|hey|dear)\s+(to|for)\s+(all\s+)?"
                r"(the\s+)?(ai|a\.i\.|assistants?|chat\s?bots?|bots?|llms?|language models?|"
                r"gpts?|agents?)\b|\b(ai|assistants?|chat\s?bots?|llms?|language models?)\s+"
                r"(reading|processing|summari[sz]ing|that reads?)\s+this\b", _P), 0.95,
     "instructions addressed to an AI"),
    (re.compile(r"\b(you are|you're|act as|pretend (to be|you are)|roleplay as|from now on,? "
                r"you)\b[^.\n]{0,40}\b(DAN|unrestricted|unfiltered|jailbr[eo]ak|no (rules|limits|"
                r"restrictions|filters|guidelines)|developer mode|evil|without (any )?(rules|"
                r"restrictions|limits|filters))", _P), 0.95, "role-play jailbreak"),
    (re.compile(r"\b(developer|god|debug|admin|sudo|maintenance|unrestricted|jailbreak)\s+mode\b|"
                r"\bDAN\b|\bdo anything now\b", re.MULTILINE), 0.9, "jailbreak mode"),
    # Text addressed to a model by a role label, as planted in pages and reviews:
    # "AI NOTE: ...", "(Chatbot: ...)", "[[assistant: ...]]", "Asistente: ...".
    (re.compile(r"(^|[\s(\[{<\-!|.])(ai|a\.i\.|assistant|chat\s?bot|bot|llm|gpt|system|"
                r"asistente|assistent|assistente|ki|ia|ki-assistent(en)?)(\s+(note|notice))?"
                r"\s*[:>]\s*\w", re.IGNORECASE), 0.9, "text addressed to an AI"),
    (re.compile(r"\b(for|to) (automated|ai|virtual) (assistants?|agents?|systems?)\b|"
                r"\bhinweis f(ü|ue)r ki\b|\bnote pour (les )?(ia|assistants?)\b|"
                r"\bnota para (la )?(ia|asistentes?)\b", re.IGNORECASE), 0.9,
     "text addressed to an AI"),
    (re.compile(r"\bnew (instructions|rules|system prompt)\s*:|\bupdated? (system )?instructions"
                r"\s*:|\b(your )?(real|true|actual) instructions (are|say)\b", _P), 0.9,
     "injected instructions"),
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
_SPACED = re.compile(r"\b(?:[A-Za-z][\s.\-_*]){6,}[A-Za-z]\b")
_LEET = str.maketrans("013457@$", "oleastas")


def heuristic_score(text: str) -> tuple[float, str]:
    """(score in [0, 1], reason) from doppel's rules, also on decoded/unspaced variants."""
    variants = [text]
    for blob in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
            plain = decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if plain.isprintable():
            variants.append(plain)
    variants += [_SPACED.sub(lambda m: re.sub(r"[\s.\-_*]", "", m.group(0)), text),
                 text.translate(_LEET)]
    best, why = 0.0, ""
    for i, variant in enumerate(variants):
        for pattern, score, reason in RULES:
            if score > best and pattern.search(variant):
                best, why = score, reason + (" (encoded)" if i else "")
    return best, why


def injection_signals(ctx: ShieldContext, models: Any) -> tuple[float, str, float]:
    """(rules' score, their reason, the classifier's injection probability), once per text."""
    rule, reason = ctx.memo("injection_rules", lambda: heuristic_score(ctx.text))
    p = float(classifier_probs(ctx, models)[models.hazard.index["injection"]])
    return rule, reason, p


class InjectionShield(SyncShield):
    """doppel's rules plus the embedded classifier's injection class."""

    name = "injection"
    cheap = False
    cheap_when_warm = True  # 0.2 ms once the classifier is loaded

    def __init__(self, models_for: Any) -> None:
        self.models_for = models_for  # () -> SafetyModels, loaded on first use

    def inspect(self, ctx: ShieldContext) -> Verdict:
        rule, reason, p = injection_signals(ctx, self.models_for())
        threshold = ctx.policy.threshold("injection", 0.5)
        score = max(rule, p)
        if score >= threshold:
            return Verdict(self.name, "block", ["injection"], {"rules": rule, "classifier": p},
                           reason or "classified as prompt injection")
        return Verdict(self.name, scores={"rules": rule, "classifier": p})


# jailguard's own cut-off (0.5) flagged 6.0 % of the benign messages of doppel's training set
# ("lol ok fair enough", "thanks so much") for 64.5 % of its injections; at 0.95 it flags 0.9 %
# and still adds confident catches to doppel's own detectors.
JAILGUARD_THRESHOLD = 0.95
# jailguard embeds the message again with its own MiniLM: 11 ms of CPU, where every other input
# shield together costs 0.35 ms (benchmarks/shield_costs.py). It is asked only where doppel's
# own detectors are unsure: not when they block already, nor when the rules see nothing and the
# classifier gives injection less than this. Chosen by 5-fold cross-validation on the training
# set (never on the held-out set): at 0.05, 84 % of its non-injection messages skip jailguard
# and none of jailguard's own catches (injections the rules and classifier missed) is lost.
JAILGUARD_GATE = 0.05


class JailguardShield(SyncShield):
    """jailguard (Rust, MiniLM + MLP), pointed at doppel's own MiniLM ONNX export so that it
    never tries to download (a missing file would make it panic, which `except` cannot catch)."""

    name = "jailguard"
    cheap = False
    ONNX_FILE = "all-MiniLM-L6-v2.onnx"

    def __init__(self, models_dir: Path, models_for: Any = None) -> None:
        self.models_dir = models_dir
        self.models_for = models_for  # None: always asked (no gate)
        self._module: Any = None
        self._lock = threading.Lock()
        self.calls = 0  # messages jailguard was asked about (the gate's effect)

    def _load(self) -> Any:
        with self._lock:
            if self._module is None:
                if not (self.models_dir / self.ONNX_FILE).is_file():
                    raise ShieldUnavailable(f"jailguard needs {self.ONNX_FILE} in "
                                            f"{self.models_dir} (run `doppel init`)")
                os.environ["JAILGUARD_MODEL_DIR"] = str(self.models_dir)
                try:
                    import jailguard
                except ImportError as exc:
                    raise ShieldUnavailable("jailguard is not installed") from exc
                self._module = jailguard
            return self._module

    def score(self, text: str) -> float:
        return float(self._load().score(text[:2000]))

    def unsure(self, ctx: ShieldContext) -> bool:
        """Whether doppel's own detectors leave the message undecided (jailguard is asked)."""
        if self.models_for is None:
            return True
        rule, _, p = injection_signals(ctx, self.models_for())
        if max(rule, p) >= ctx.policy.threshold("injection", 0.5):
            return False  # the injection shield blocks it
        return rule > 0 or p >= JAILGUARD_GATE

    async def check(self, ctx: ShieldContext) -> Verdict:
        # The gate inline (the classifier's probabilities, shared with the other shields);
        # jailguard itself, 11 ms of CPU, in a worker thread. A jailguard that cannot run
        # fails every check, asked or not, so that a policy failing closed stays closed.
        if self._warm and self._load() and not self.unsure(ctx):
            return self._skipped()
        verdict = await asyncio.to_thread(self.inspect, ctx)
        self._warm = self.models_for is not None
        return verdict

    def _skipped(self) -> Verdict:
        return Verdict(self.name, scores={"jailguard_skipped": 1.0})

    def inspect(self, ctx: ShieldContext) -> Verdict:
        self._load()
        if not self.unsure(ctx):
            return self._skipped()
        self.calls += 1
        score = self.score(ctx.text)
        if score >= ctx.policy.threshold("jailguard", JAILGUARD_THRESHOLD):
            return Verdict(self.name, "block", ["injection"], {"jailguard": score},
                           "jailguard: prompt injection")
        return Verdict(self.name, scores={"jailguard": score})


# --- documents ----------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9']+")
_LINE = re.compile(r"[^\n]+")
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?]+(?=\s|$)|$)")  # "policies.pdf" is not two sentences
_MARKUP_BREAK = re.compile(r"(?=<!--)|(?<=-->)|(?=\[\[)|(?<=\]\])")
DOCUMENT_THRESHOLD = 0.6
DOCUMENT_CLASSIFIER_THRESHOLD = 0.9
DOCUMENT_MIN_WORDS = 6


def _segments(text: str) -> list[tuple[int, int]]:
    """Lines, and long lines split into sentences: an injected sentence is judged on its own,
    not diluted by the honest text around it."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        # A comment or [[note]] planted inside an honest line is a segment of its own.
        cuts = [0, *(m.start() for m in _MARKUP_BREAK.finditer(line.group(0))),
                len(line.group(0))]
        for a, b in zip(cuts, cuts[1:]):
            part = line.group(0)[a:b]
            if part.startswith(("<!--", "[[")):  # a comment is judged whole
                if part.strip():
                    spans.append((line.start() + a, line.start() + b))
                continue
            for sent in _SENTENCE.finditer(part):
                if sent.group(0).strip():
                    spans.append((line.start() + a + sent.start(),
                                  line.start() + a + sent.end()))
    return spans


def scan_texts(texts: Sequence[str], embedder: Embedder, models: Any,
               threshold: float = DOCUMENT_THRESHOLD,
               confirm: Callable[[str], float] | None = None) -> list[list[list[float]]]:
    """For each text, the [start, end, score] spans that read as instructions to an AI.

    `confirm` (jailguard's score) is asked about sentences only the classifier flagged."""
    segments = [_segments(t) for t in texts]
    flat = [(i, s, e) for i, spans in enumerate(segments) for s, e in spans]
    out: list[list[list[float]]] = [[] for _ in texts]
    if not flat:
        return out
    pieces = [texts[i][s:e] for i, s, e in flat]
    probs = models.hazard_probs(pieces, embedder.embed(pieces))[:, models.hazard.index["injection"]]
    for (i, s, e), piece, p in zip(flat, pieces, probs, strict=True):
        rule, _ = heuristic_score(piece)
        # Documents are long and mostly honest: the rules are the main signal there, and the
        # classifier alone needs a whole sentence and more confidence (on the demo bakery's
        # files it flagged fragments like "pdf) and policies" at 0.6-0.97).
        learned = float(p) if len(_WORD.findall(piece.lower())) >= DOCUMENT_MIN_WORDS else 0.0
        if learned >= DOCUMENT_CLASSIFIER_THRESHOLD and rule < threshold and confirm is not None:
            # A second, independent detector must agree ("Full details are in our policies"
            # scored 0.93 with the classifier, 0.0 with jailguard).
            learned = learned if _confirmed(confirm, piece) else 0.0
        score = max(rule, learned if learned >= DOCUMENT_CLASSIFIER_THRESHOLD else 0.0)
        if score >= threshold:
            out[i].append([s, e, round(score, 3)])
    return out


def _confirmed(confirm: Callable[[str], float], piece: str) -> bool:
    try:
        return confirm(piece) >= 0.5
    except Exception:  # noqa: BLE001 - the detector is optional; without it, trust the classifier
        return True


def neutralise(text: str, flags: Sequence[Sequence[float]]) -> str:
    """The passage with flagged spans replaced by a marker the model cannot mistake for an order."""
    if not flags:
        return text
    out, last = [], 0
    for start, end, _ in sorted(list(f) for f in flags):
        s, e = int(start), int(end)
        out.append(text[last:s])
        out.append("[removed: text addressed to AI assistants]")
        last = max(last, e)
    out.append(text[last:])
    return "".join(out)


# --- system-prompt leakage (output) ---------------------------------------------------------------

_LEAK_PHRASES = re.compile(
    r"\b(my|the) (system prompt|(system |hidden |original |initial )?instructions (say|are|tell)|"
    r"(initial|original|hidden) prompt)\b|\bI (was|am|have been) (told|instructed|programmed) to\b",
    re.IGNORECASE)
LEAK_NGRAM = 8  # consecutive words shared with the instructions that count as a leak
LEAK_SHORT = 6  # shorter sentences ("You are an assistant.") are too common to judge


@functools.lru_cache(maxsize=256)
def _instruction_grams(instructions: str) -> tuple[list[str], frozenset[tuple[str, ...]]]:
    """The instructions' words and word n-grams, once per prompt (every sentence of every
    answer is checked against the same one)."""
    source = _WORD.findall(instructions.lower())
    return source, frozenset(tuple(source[i:i + LEAK_NGRAM])
                             for i in range(len(source) - LEAK_NGRAM + 1))


class LeakageShield(SyncShield):
    """Blocks answer sentences that recite the agent's instructions: a run of LEAK_NGRAM words
    copied from the fixed system prompt, or talk about "my system prompt"."""

    name = "leakage"

    def inspect(self, ctx: ShieldContext) -> Verdict:
        if _LEAK_PHRASES.search(ctx.text):
            return Verdict(self.name, "block", ["leakage"], {"leakage": 1.0},
                           "talks about its instructions")
        words = _WORD.findall(ctx.text.lower())
        if not ctx.instructions or len(words) < LEAK_SHORT:
            return Verdict(self.name)
        source, grams = _instruction_grams(ctx.instructions)
        if len(words) < LEAK_NGRAM:  # a short sentence copied whole from the instructions
            n = len(words)
            if any(source[i:i + n] == words for i in range(len(source) - n + 1)):
                return Verdict(self.name, "block", ["leakage"], {"leakage": 1.0},
                               "repeats a sentence of its instructions")
            return Verdict(self.name)
        hits = sum(tuple(words[i:i + LEAK_NGRAM]) in grams
                   for i in range(len(words) - LEAK_NGRAM + 1))
        if hits:
            return Verdict(self.name, "block", ["leakage"], {"leakage": 1.0},
                           f"repeats {LEAK_NGRAM + hits - 1} words of its instructions")
        return Verdict(self.name)
