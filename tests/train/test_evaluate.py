"""Evaluation against sparring partners: found by name under a sparring folder, played only in their configs."""
from __future__ import annotations

import json
import os

import pytest

from tests.train.test_arena import scripted_agent
from train.evaluate import SPARRING_PARTNERS, evaluate, opponent_configs, resolve_opponent


def test_a_sparring_partner_is_found_by_name_and_a_missing_one_says_how_to_set_it_up(tmp_path):
    entry = scripted_agent(tmp_path / "sparring" / "bot76" / "src")
    label, path = resolve_opponent("bot76", "main.py", str(tmp_path / "scratch"), str(tmp_path / "sparring"))
    assert (label, path) == ("bot76", entry)
    with pytest.raises(FileNotFoundError, match=r"setup\.sh GITDIRS .*sparring"):
        resolve_opponent("kit", "main.py", str(tmp_path / "scratch"), str(tmp_path / "sparring"))
    # The C++ bot cannot start without its compiled binary, though its entry point is there.
    os.replace(scripted_agent(tmp_path / "sparring" / "bot40"), tmp_path / "sparring" / "bot40" / "main_stdio.py")
    assert "build/agent.out" in SPARRING_PARTNERS["bot40"].missing(str(tmp_path / "sparring"))
    assert opponent_configs("bot15") == ("kaggle",) and opponent_configs("kit") == ("kaggle", "neurips")
    assert opponent_configs("heuristic") == ("kaggle", "neurips")


def test_evaluate_plays_a_kaggle_only_partner_only_in_the_kaggle_config(tmp_path):
    scripted_agent(tmp_path / "sparring" / "bot76" / "src", water=30)  # dries up after ~30 steps
    agent = scripted_agent(tmp_path / "agent", water=60)
    lines = []
    (row,) = evaluate(agent, ["bot76"], seeds=[0], configs=["kaggle", "neurips"], workers=1,
                      out_dir=str(tmp_path / "eval"), seats=["player_0"], log=lines.append,
                      sparring_dir=str(tmp_path / "sparring"))
    assert any("bot76 plays only kaggle: skipping neurips" in line for line in lines), lines
    assert (row.opponent, row.config, row.games, row.wins) == ("bot76", "kaggle", 1, 1)
    assert (row.robots_alive_mean, row.opponent_robots_alive_mean) == (1.0, 1.0)  # one light built each
    assert row.opponent_factories_alive_mean == 0.0
    data = json.loads((tmp_path / "eval" / "results.json").read_text())
    (game,) = data["games"]
    theirs = game["result"]["players"]["player_1"]
    assert theirs["last_factory_lost_step"] == game["result"]["steps"]
    assert "| robots alive (opp.) |" in (tmp_path / "eval" / "results.md").read_text()


def test_replays_keeps_each_games_replay_under_the_out_folder_named_by_opponent_config_seed_and_seat(tmp_path):
    from tools.replay_report import summarise
    from train.evaluate import replay_path

    assert replay_path("r", "policy weights/a b.onnx", "kaggle", 3, "player_0") == os.path.join(
        "r", "policy_weights_a_b.onnx_kaggle_seed3_player_0.json")
    scripted_agent(tmp_path / "sparring" / "bot76" / "src", water=30)  # dries up after ~30 steps
    agent = scripted_agent(tmp_path / "agent", water=60)
    (row,) = evaluate(agent, ["bot76"], seeds=[1], configs=["kaggle"], workers=1, out_dir=str(tmp_path / "eval"),
                      seats=["player_1"], log=lambda _: None, sparring_dir=str(tmp_path / "sparring"),
                      replays=True)
    (game,) = json.loads((tmp_path / "eval" / "results.json").read_text())["games"]
    assert game["replay"] == os.path.join("replays", "bot76_kaggle_seed1_player_1.json")
    assert os.listdir(tmp_path / "eval" / "replays") == ["bot76_kaggle_seed1_player_1.json"]
    rows = summarise(str(tmp_path / "eval" / game["replay"]), "player_1")
    assert rows[-1]["step"] == game["result"]["steps"] and rows[-1]["opp_factories"] == 0  # bot76 dried up
