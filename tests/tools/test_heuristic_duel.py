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


def test_the_controller_through_the_policy_codec_moves_robots_without_rejected_actions():
    from strategy.units import HeuristicUnitController
    from tests.game import ActionCounter
    from tests.magma_policy.games import KAGGLE, play

    act = heuristic_duel.through_policy_codec(HeuristicUnitController())
    moved = []

    def policy(state, player):
        queues = act(state, player)
        moved.extend(uid for uid, q in queues.items() if q and q[0][0] == 0)  # a queue that starts with a move
        return queues

    with ActionCounter() as counter:
        steps = sum(1 for _ in play(11, KAGGLE, 60, policy))
    assert steps == 60 and moved
    assert counter.seen > 0 and counter.rejected == 0


def test_side_a_can_be_an_exported_policy(tmp_path, capsys):
    pytest.importorskip("torch")
    from tests.magma_policy.helpers import export_untrained_policy

    path, _ = export_untrained_policy(tmp_path)
    assert heuristic_duel.main(["--a-policy", path, "--seeds", "0", "--configs", "kaggle", "--steps", "15",
                                "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "A: policy %s" % path in out
    assert len([line for line in out.splitlines() if line.startswith("| 0 | kaggle |")]) == 2


def test_a_missing_policy_is_refused_before_any_game(tmp_path, capsys):
    with pytest.raises(SystemExit):
        heuristic_duel.main(["--a-policy", str(tmp_path / "none.onnx"), "--seeds", "0", "--workers", "1"])
    assert "not found" in capsys.readouterr().err


def test_sides_play_the_shipped_rules_less_without_plus_with():
    shipped = heuristic_duel.controller(100, ())
    assert (shipped.safety, shipped.defence, shipped.raids, shipped.guards) == (True, False, True, True)
    assert shipped.defend_all_from is not None
    bare = heuristic_duel.controller(100, ("safety", "raids", "guards", "late_defence"))
    assert (bare.safety, bare.raids, bare.guards, bare.defend_all_from) == (False, False, False, None)
    assert heuristic_duel.controller(100, (), ("defence",)).defence
    with pytest.raises(argparse.ArgumentTypeError, match="unknown"):
        heuristic_duel.rules_arg("safety,bogus")
