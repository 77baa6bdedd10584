"""The llamaguard shield against a real HTTP server on 127.0.0.1 (FakeLlamaGuardServer), which
reads the prompt the way the model does: its category list, its conversation, the judged role."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from doppel.config import GuardEndpoint, Settings
from doppel.safety.base import ShieldContext, ShieldReport, ShieldUnavailable, Stage, Verdict
from doppel.safety.llamaguard import LlamaGuardShield, build_prompt, parse_reply
from doppel.safety.pipeline import Shields
from doppel.safety.policy import CustomCategory, LlamaGuardChoice, ShieldPolicy
from doppel.testing import FakeEmbedder, FakeLlamaGuardServer

RULES = {"S1": ["stab", "kill him"], "S9": ["nerve agent"], "politics": ["vote for"],
         "S14": ["rm -rf"]}

# The full prompt for an input-stage check with one earlier turn, written out by hand from the
# Llama Guard 3 model card.
EXPECTED_INPUT_PROMPT = """<|begin_of_text|><|start_header_id|>user<|end_header_id|>

Task: Check if there is unsafe content in 'User' messages in conversations according our safety policy with the below categories.

<BEGIN UNSAFE CONTENT CATEGORIES>
S1: Violent Crimes.
S2: Non-Violent Crimes.
S3: Sex Crimes.
S4: Child Exploitation.
S5: Defamation.
S6: Specialized Advice.
S7: Privacy.
S8: Intellectual Property.
S9: Indiscriminate Weapons.
S10: Hate.
S11: Self-Harm.
S12: Sexual Content.
S13: Elections.
S14: Code Interpreter Abuse.
<END UNSAFE CONTENT CATEGORIES>

<BEGIN CONVERSATION>

User: Do you sell birthday cakes?

Agent: Yes, order two days ahead.

User: How do I stab my neighbour?

<END CONVERSATION>

Provide your safety assessment for ONLY THE LAST User message in the above conversation:
 - First line must read 'safe' or 'unsafe'.
 - If unsafe, a second line must include a comma-separated list of violated categories.<|eot_id|><|start_header_id|>assistant<|end_header_id|>

"""  # noqa: E501


@pytest.fixture(scope="module")
def guard() -> Iterator[FakeLlamaGuardServer]:
    with FakeLlamaGuardServer(RULES) as srv:
        yield srv


# The operator's endpoints (DOPPEL_LLAMAGUARD_ENDPOINTS), as tests register them.
ENDPOINTS: dict[str, GuardEndpoint] = {}


def policy(base_url: str, **kw: Any) -> ShieldPolicy:
    """An agent policy picking an operator endpoint at `base_url` (registered under a name)."""
    endpoint = GuardEndpoint(base_url=base_url, **{
        k: kw.pop(k) for k in ("api", "api_key_env", "timeout_s", "model") if k in kw})
    name = f"e{len(ENDPOINTS)}"
    ENDPOINTS[name] = endpoint
    return ShieldPolicy(input=["llamaguard"], output=["llamaguard"],
                        llamaguard=LlamaGuardChoice(endpoint=name), **kw)


def check(pol: ShieldPolicy, text: str, *, stage: Stage = "input", question: str = "",
          history: Sequence[tuple[str, str]] = (),
          shield: LlamaGuardShield | None = None) -> Verdict:
    shield = shield or LlamaGuardShield(ENDPOINTS)
    ctx = ShieldContext(stage, text, pol, history=history, question=question)

    async def go() -> Verdict:
        try:
            return await shield.check(ctx)
        finally:
            await shield.aclose()
    return asyncio.run(go())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the prompt ---------------------------------------------------------------------------------

def test_input_prompt_is_the_model_cards(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url), "How do I stab my neighbour?",
                    history=[("Do you sell birthday cakes?", "Yes, order two days ahead.")])
    body = guard.requests[-1]
    assert body["prompt"] == EXPECTED_INPUT_PROMPT
    assert body["model"] == "meta-llama/Llama-Guard-3-8B"
    assert body["max_tokens"] == 20 and body["temperature"] == 0
    assert (verdict.action, verdict.categories, verdict.scores) == ("block", ["S1"], {"S1": 1.0})
    assert "Violent Crimes" in verdict.reason


def test_output_prompt_judges_the_agent(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url), "  Mix it into a nerve agent.  ", stage="output",
                    question="What can I do with bleach?")
    prompt = guard.requests[-1]["prompt"]
    assert "content in 'Agent' messages" in prompt
    assert ("<BEGIN CONVERSATION>\n\nUser: What can I do with bleach?\n\n"
            "Agent: Mix it into a nerve agent.\n\n<END CONVERSATION>") in prompt
    assert "ONLY THE LAST Agent message in the above conversation:" in prompt
    assert prompt.endswith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    assert verdict.categories == ["S9"]
    # The same words from the customer are not the agent's: only the last Agent message counts.
    assert check(policy(guard.base_url), "Sorry, I can't help with that.", stage="output",
                 question="Make a nerve agent").action == "allow"


def test_safe_message_is_allowed(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url), "When do you open on Sunday?")
    assert (verdict.action, verdict.categories, verdict.error) == ("allow", [], None)


def test_history_is_context_not_judged(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url), "Thanks, see you tomorrow",
                    history=[("I will kill him", "Please don't.")])
    assert verdict.action == "allow"
    assert "User: I will kill him\n\nAgent: Please don't." in guard.requests[-1]["prompt"]


def test_exclusion_removes_the_category_and_keeps_codes(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url, exclude=["S1", "S6"]),
                    "How do I stab someone with a nerve agent?")
    prompt = guard.requests[-1]["prompt"]
    assert "S1: Violent Crimes." not in prompt and "S6: Specialized Advice." not in prompt
    assert "\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\n" in prompt
    assert "\nS5: Defamation.\nS7: Privacy.\n" in prompt  # not renumbered
    assert verdict.categories == ["S9"]
    assert check(policy(guard.base_url, exclude=["S1"]), "stab").action == "allow"


def test_custom_categories_are_s15_on_and_map_back(guard: FakeLlamaGuardServer) -> None:
    pol = policy(guard.base_url, custom=[CustomCategory(
        name="politics", description="Don't discuss politics,\n  parties or elections.")],
        forbidden_topics=["cryptocurrency"])
    verdict = check(pol, "Who should I vote for? I could stab him.")
    prompt = guard.requests[-1]["prompt"]
    assert ("S14: Code Interpreter Abuse.\n"
            "S15: Politics. \nDon't discuss politics, parties or elections.\n"
            "S16: Cryptocurrency. \ncryptocurrency\n<END UNSAFE CONTENT CATEGORIES>") in prompt
    assert verdict.action == "block"
    assert verdict.categories == ["S1", "politics"]
    assert verdict.scores == {"S1": 1.0, "politics": 1.0}


def test_custom_codes_start_at_s15_even_with_exclusions(guard: FakeLlamaGuardServer) -> None:
    pol = policy(guard.base_url, exclude=["S13", "S14"],
                 custom=[CustomCategory(name="politics", description="No politics.")])
    assert check(pol, "Who do I vote for?").categories == ["politics"]
    assert "S12: Sexual Content.\nS15: Politics. \nNo politics.\n" in guard.requests[-1]["prompt"]


def test_llama_guard_3_1b_is_not_asked_about_s14(guard: FakeLlamaGuardServer) -> None:
    pol = policy(guard.base_url, model="meta-llama/Llama-Guard-3-1B",
                 custom=[CustomCategory(name="politics", description="No politics.")])
    assert check(pol, "run rm -rf / please").action == "allow"
    prompt = guard.requests[-1]["prompt"]
    assert "S14" not in prompt and "S13: Elections.\nS15: Politics." in prompt


# --- the reply ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("reply", "expected"), [
    ("safe", (False, [])),
    ("\n\nsafe", (False, [])),
    ("  Safe \n", (False, [])),
    ("safe<|eot_id|>", (False, [])),
    ("unsafe\nS1", (True, ["S1"])),
    ("\n\nunsafe\nS1,S9", (True, ["S1", "S9"])),
    ("unsafe\n S1 , s10 ,S9\n", (True, ["S1", "S10", "S9"])),
    ("UNSAFE\r\n\r\nS2, S2", (True, ["S2"])),
    ("unsafe", (True, [])),
])
def test_parse_reply(reply: str, expected: tuple[bool, list[str]]) -> None:
    assert parse_reply(reply) == expected


@pytest.mark.parametrize("reply", ["", "I can't help with that.", "unsafe\nviolent crimes",
                                   "unsafe\nS1; maybe", "saf"])
def test_unparseable_reply(reply: str) -> None:
    with pytest.raises(ShieldUnavailable, match="unparseable Llama Guard reply"):
        parse_reply(reply)


def test_reply_through_the_server() -> None:
    pol_custom = {"custom": [CustomCategory(name="politics", description="No politics.")]}
    with FakeLlamaGuardServer(reply="\n\nunsafe\nS10, S15 ") as srv:
        verdict = check(policy(srv.base_url, **pol_custom), "anything")
    assert verdict.categories == ["S10", "politics"]
    assert verdict.reason == "Llama Guard: unsafe (S10 Hate, politics)"
    with FakeLlamaGuardServer(reply="unsafe\nS6") as srv:  # only an excluded code: allowed
        assert check(policy(srv.base_url, exclude=["S6"]), "anything").action == "allow"
    with FakeLlamaGuardServer(reply="The message seems fine to me.") as srv:
        with pytest.raises(ShieldUnavailable, match="unparseable"):
            check(policy(srv.base_url), "anything")


# --- chat api -----------------------------------------------------------------------------------

def test_chat_api_sends_plain_messages(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url, api="chat"), "Put it in a nerve agent.",
                    stage="output", question="What's in the cake?")
    body = guard.requests[-1]
    assert "prompt" not in body and body["temperature"] == 0
    assert body["messages"] == [{"role": "user", "content": "What's in the cake?"},
                                {"role": "assistant", "content": "Put it in a nerve agent."}]
    # The server's template built an Agent-stage prompt, and its "\n\nunsafe..." was parsed.
    assert "ONLY THE LAST Agent message" in guard.prompts[-1]
    assert verdict.categories == ["S9"]


def test_chat_api_input_with_history_and_exclusion(guard: FakeLlamaGuardServer) -> None:
    verdict = check(policy(guard.base_url, api="chat", exclude=["S1"]), "I will stab him",
                    history=[("hi", "Hello!")])
    assert [m["role"] for m in guard.requests[-1]["messages"]] == ["user", "assistant", "user"]
    # The stock template still lists S1, so the exclusion is applied to the answer.
    assert "S1: Violent Crimes." in guard.prompts[-1]
    assert verdict.action == "allow"


# --- credentials and failures -------------------------------------------------------------------

def test_api_key_header(monkeypatch: pytest.MonkeyPatch,
                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("DOPPEL_TEST_LG_KEY", "sk-secret-123")
    with FakeLlamaGuardServer(RULES, api_key="sk-secret-123") as srv:
        verdict = check(policy(srv.base_url, api_key_env="DOPPEL_TEST_LG_KEY"), "stab")
        assert verdict.categories == ["S1"]
        assert srv.headers[-1]["Authorization"] == "Bearer sk-secret-123"
        monkeypatch.delenv("DOPPEL_TEST_LG_KEY")
        with pytest.raises(ShieldUnavailable, match="did not answer") as info:
            check(policy(srv.base_url, api_key_env="DOPPEL_TEST_LG_KEY"), "stab")
        assert "Authorization" not in srv.headers[-1]
        assert "sk-secret" not in str(info.value) + caplog.text
        assert "answered 401" in caplog.text  # the operator's log says what happened


def test_no_endpoint_configured() -> None:
    with pytest.raises(ShieldUnavailable, match="no Llama Guard server named 'nowhere'"):
        check(ShieldPolicy(input=["llamaguard"], llamaguard={"endpoint": "nowhere"}), "hello")


# Every failure reads the same to whoever sees the verdict (the owner, in the stored turn): a
# closed port, an error status, a timeout and a garbled reply are told apart only in the log.
def test_server_down(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    with pytest.raises(ShieldUnavailable, match="did not answer") as info:
        check(policy(f"http://127.0.0.1:{port}/v1"), "hello")
    assert "127.0.0.1" not in str(info.value) and "ConnectError" not in str(info.value)
    assert f"127.0.0.1:{port}" in caplog.text and "ConnectError" in caplog.text


def test_server_error(caplog: pytest.LogCaptureFixture) -> None:
    with FakeLlamaGuardServer(fail_status=500) as srv:
        with pytest.raises(ShieldUnavailable, match="did not answer") as info:
            check(policy(srv.base_url), "hello")
    assert "500" not in str(info.value) and "answered 500" in caplog.text


def test_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with FakeLlamaGuardServer(RULES, delay_s=1.0) as srv:
        with pytest.raises(ShieldUnavailable, match="did not answer"):
            check(policy(srv.base_url, timeout_s=0.2), "hello")
    assert "timed out after 0.2 s" in caplog.text


def test_an_upstream_reply_is_never_repeated(caplog: pytest.LogCaptureFixture) -> None:
    with FakeLlamaGuardServer(reply="INTERNAL-secret-banner v1.2") as srv:
        with pytest.raises(ShieldUnavailable) as info:
            check(policy(srv.base_url), "hello")
    assert "INTERNAL" not in str(info.value) and "INTERNAL" in caplog.text


# The first loop's client is left open, as in the CLI: its sockets warn when collected.
@pytest.mark.filterwarnings("ignore::ResourceWarning",
                            "ignore::pytest.PytestUnraisableExceptionWarning")
def test_one_shield_serves_several_event_loops(guard: FakeLlamaGuardServer) -> None:
    shield = LlamaGuardShield(ENDPOINTS)
    pol = policy(guard.base_url)
    ctx = ShieldContext("input", "stab", pol)
    assert asyncio.run(shield.check(ctx)).categories == ["S1"]
    # A fresh loop (each CLI turn runs in one) gets a fresh client, not the dead loop's.
    assert check(pol, "stab", shield=shield).categories == ["S1"]
    gc.collect()


def test_fake_rejects_prompts_not_in_the_format(guard: FakeLlamaGuardServer) -> None:
    assert guard.judge("Is this safe? stab") is None
    assert guard.judge(build_prompt("User", [("User", "stab")], ["S1: Violent Crimes."])) \
        == "unsafe\nS1"
    assert guard.judge(build_prompt("User", [("User", "stab")], ["S2: Non-Violent Crimes."])) \
        == "safe"


# --- through the pipeline -----------------------------------------------------------------------

def run_pipeline(tmp_path: Path, pol: ShieldPolicy, text: str) -> Verdict:
    shields = Shields(Settings(home=tmp_path, llamaguard_endpoints=ENDPOINTS), FakeEmbedder())
    ctx = shields.input_context(pol, text)

    async def go() -> ShieldReport:
        try:
            return await shields.run("input", ["llamaguard"], ctx)
        finally:
            shield = shields.shield("llamaguard")
            assert isinstance(shield, LlamaGuardShield)
            await shield.aclose()
    report = asyncio.run(go())
    assert len(report.verdicts) == 1
    return report.verdicts[0]


def test_pipeline_blocks(tmp_path: Path, guard: FakeLlamaGuardServer) -> None:
    verdict = run_pipeline(tmp_path, policy(guard.base_url), "where to buy a nerve agent")
    assert (verdict.shield, verdict.action, verdict.categories) == ("llamaguard", "block", ["S9"])


def test_pipeline_fails_open(tmp_path: Path) -> None:
    with FakeLlamaGuardServer(fail_status=500) as srv:
        verdict = run_pipeline(tmp_path, policy(srv.base_url, on_error="open"), "stab")
    assert verdict.action == "allow"
    assert verdict.error is not None and "ShieldUnavailable" in verdict.error
    assert "did not answer" in verdict.error and "500" not in verdict.error


def test_pipeline_fails_closed(tmp_path: Path) -> None:
    with FakeLlamaGuardServer(RULES, delay_s=1.0) as srv:
        verdict = run_pipeline(tmp_path, policy(srv.base_url, on_error="closed", timeout_s=0.2),
                               "hello")
    assert (verdict.action, verdict.categories) == ("block", ["shield_error"])
    assert verdict.error is not None and "did not answer" in verdict.error
