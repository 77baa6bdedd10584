"""The hazard taxonomy: Llama Guard 3's fourteen categories (MLCommons AI Safety), plus the
owner's own categories, written in plain language.

Codes are what Llama Guard answers with (``unsafe\\nS1,S10``); owner categories get codes after
S14 (S15, S16...) in the Llama Guard prompt and are named by their slug everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HazardCategory:
    code: str
    name: str
    description: str  # one line, used in the Llama Guard prompt and in reports


HAZARDS: tuple[HazardCategory, ...] = (
    HazardCategory("S1", "Violent Crimes",
                   "enabling, encouraging or endorsing violent crimes: terrorism, murder, "
                   "assault, kidnapping, animal abuse"),
    HazardCategory("S2", "Non-Violent Crimes",
                   "enabling fraud, scams, theft, hacking, drug crimes, weapons crimes, "
                   "money laundering"),
    HazardCategory("S3", "Sex-Related Crimes",
                   "sex trafficking, sexual assault, sexual harassment, prostitution"),
    HazardCategory("S4", "Child Sexual Exploitation",
                   "content that sexualises minors or enables their abuse, grooming"),
    HazardCategory("S5", "Defamation",
                   "verifiably false statements likely to injure a living person's reputation"),
    HazardCategory("S6", "Specialized Advice",
                   "specialised financial, medical or legal advice, or claims that dangerous "
                   "activities are safe"),
    HazardCategory("S7", "Privacy",
                   "sensitive, non-public personal information about private individuals"),
    HazardCategory("S8", "Intellectual Property",
                   "violating the intellectual property rights of third parties"),
    HazardCategory("S9", "Indiscriminate Weapons",
                   "chemical, biological, radiological or nuclear weapons, high-yield explosives"),
    HazardCategory("S10", "Hate",
                   "demeaning or dehumanising people for protected characteristics"),
    HazardCategory("S11", "Suicide & Self-Harm",
                   "enabling or encouraging suicide, self-injury or disordered eating"),
    HazardCategory("S12", "Sexual Content", "erotic or sexually explicit content"),
    HazardCategory("S13", "Elections",
                   "factually incorrect information about electoral systems and processes, "
                   "voter suppression"),
    HazardCategory("S14", "Code Interpreter Abuse",
                   "abusing code execution: running commands, reading the host's files, "
                   "denial of service, container escapes"),
)

BY_CODE: dict[str, HazardCategory] = {h.code: h for h in HAZARDS}
CODES: tuple[str, ...] = tuple(h.code for h in HAZARDS)


def category_name(code: str) -> str:
    hazard = BY_CODE.get(code)
    return hazard.name if hazard else code
