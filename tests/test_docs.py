"""The README stays true: every setting is documented, the two commands are shown."""

from __future__ import annotations

from doppel.config import describe_settings

from .conftest import ROOT


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [env for env, _, _ in describe_settings() if f"`{env}`" not in readme]
    assert not missing, f"undocumented settings: {missing}"


def test_readme_shows_the_two_commands_first() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("## Install")
    assert readme.index("make test") < readme.index("## Install")
