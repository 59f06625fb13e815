"""Whole games of our main.py against itself through the official runner (subprocess agents, real protocol).

One seed per game configuration: the agent must never error or time out, never send an action the engine
rejects, and the game must reach step 1000 unless a player legitimately lost all its factories.
"""
from __future__ import annotations

import os

import pytest

from train.arena import PLAYERS, play_game

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(REPO_ROOT, "main.py")


@pytest.mark.slow
@pytest.mark.parametrize("config, seed", [("kaggle", 42), ("neurips", 7)])
def test_full_game_against_itself(config, seed, tmp_path):
    result = play_game(MAIN, MAIN, seed=seed, config=config, replay_paths=[str(tmp_path / "replay.json")])
    for player in PLAYERS:
        stats = result.players[player]
        print(f"{config} seed {seed} {player}: lichen {stats.lichen}, factories {stats.factories_alive}, "
              f"turn mean {stats.turn_time_mean_s:.3f}s max {stats.turn_time_max_s:.3f}s, wall {result.wall_s}s")
        assert stats.errors == 0, f"{player} errored:\n{stats.stderr[-3000:]}"
        assert stats.invalid_actions == 0, f"{player} sent {stats.invalid_actions} invalid actions"
        assert stats.failure in (None, "lost all factories"), f"{player}: {stats.failure}"
    if result.steps < 1000:
        # The only legitimate early end: somebody has no factory left.
        assert any(result.players[p].failure == "lost all factories" for p in PLAYERS), result.steps
        assert any(result.players[p].factories_alive == 0 for p in PLAYERS)
    else:
        assert result.steps == 1000
    assert os.path.getsize(tmp_path / "replay.json") > 0
