import argparse

import pytest

from tools import heuristic_duel


def test_rubble_metal_accepts_none_and_thresholds_and_rejects_negatives():
    assert heuristic_duel.rubble_metal_arg("none") is None
    assert heuristic_duel.rubble_metal_arg("100") == 100
    with pytest.raises(argparse.ArgumentTypeError, match=">= 0"):
        heuristic_duel.rubble_metal_arg("-1")


def test_command_line_plays_each_seed_in_both_seats(capsys):
    assert heuristic_duel.main(["--seeds", "0", "--configs", "kaggle", "--steps", "15", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    games = [line for line in out.splitlines() if line.startswith("| 0 | kaggle |")]
    assert [g.split("|")[3].strip() for g in games] == ["player_0", "player_1"]
    totals = [line for line in out.splitlines() if line.startswith("| kaggle | 2 |")]
    assert len(totals) == 1
