"""The Retro Contest protocol on the real Airstriker emulator; Sonic without its ROM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("stable_retro")

from gamerl.envs.retro import contest_levels  # noqa: E402
from gamerl.errors import DependencyError  # noqa: E402
from gamerl.evaluation.retro_contest import ContestPolicy, baseline_policy, evaluate_contest  # noqa: E402

AIRSTRIKER = ("Airstriker-Genesis-v0", "Level1")


def test_tiny_budget_on_airstriker_is_scored_deterministically(tmp_path: Path) -> None:
    report = evaluate_contest(baseline_policy("random", seed=0), [AIRSTRIKER, AIRSTRIKER], 300, progress=False)
    again = evaluate_contest(baseline_policy("random", seed=0), [AIRSTRIKER], 300, progress=False)
    assert again.levels[0] == report.levels[0]
    # a random Airstriker episode lasts about 400 steps: 300 end inside the first, scored as it stands
    for level in report.levels:
        assert level.partial and level.cut is not None and level.cut.length == 300
        assert level.mean == pytest.approx(2 * 300)
    assert report.mean == pytest.approx(600)
    saved = json.loads(report.save(tmp_path / "contest.json").read_text())
    assert saved["levels"][0]["game"] == "Airstriker-Genesis-v0" and saved["mean_score"] == pytest.approx(600)


def test_episodes_run_back_to_back_until_the_budget_is_spent() -> None:
    (level,) = evaluate_contest(baseline_policy("random", seed=1), [AIRSTRIKER], 1500, progress=False).levels
    assert len(level.episodes) == 3 and level.cut is not None
    assert sum(e.length for e in level.episodes) + level.cut.length == 1500
    assert [e.score for e in level.episodes] == [2 * e.length for e in level.episodes]
    assert level.mean == pytest.approx(2 * sum(e.length for e in level.episodes) / len(level.episodes))


def test_sonic_without_its_rom_fails_in_one_line_before_any_level_is_played(no_sonic_rom: None) -> None:
    made: list[ContestPolicy] = []

    def make_policy() -> ContestPolicy:
        made.append(baseline_policy("jerk")())
        return made[-1]

    with pytest.raises(DependencyError, match=r"python -m stable_retro.import DIR") as err:
        evaluate_contest(make_policy, [AIRSTRIKER, *contest_levels("validation")], 100, progress=False)
    assert "\n" not in str(err.value) and made == []
