"""`personae demo` tells the moderation story: the door closes on a decision, opens on appeal."""

from __future__ import annotations

from pathlib import Path

from personae.cli.demo import run_story


def test_the_demo_door_closes_and_opens_again(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_story(lines.append, tmp_path)
    assert result["doors"] == [200, 401, 200]
    told = "\n".join(lines)
    assert "suspends the persona for 7 days" in told
    assert "may not hear the appeal (403)" in told
