"""The replay report: rows of a short game played through the runner against its final state, lichen and
intruders of a hand-made replay, the command line."""
from __future__ import annotations

import json
from itertools import accumulate

import pytest

from lux.observation import ObservationTracker
from tests.helpers import boards
from tests.train.test_arena import scripted_agent
from tools import replay_report
from train.arena import play_game


@pytest.fixture(scope="module")
def short_game(tmp_path_factory):
    """A 12-step game: player_0 builds a light on each of its first 4 steps (each new one spawns onto the one
    before: robots lost), player_1 one light."""
    folder = tmp_path_factory.mktemp("short_game")
    builder = scripted_agent(folder / "builder", build_turns=4)
    steady = scripted_agent(folder / "steady", build_turns=1)
    path = str(folder / "replay.json")
    result = play_game(builder, steady, seed=0, config="kaggle", replay_paths=[path], max_episode_length=12)
    return path, result


def _final_observation(path):
    tracker = ObservationTracker()
    for obs in json.load(open(path))["observations"]:
        full = tracker.update(obs)
    return full


@pytest.mark.parametrize("player, other", [("player_0", "player_1"), ("player_1", "player_0")])
def test_rows_of_a_short_game_match_its_final_state(short_game, player, other):
    path, result = short_game
    rows = replay_report.summarise(path, player, every=5)
    assert [r["step"] for r in rows] == [5, 10, 12] and result.steps == 12  # every 5 steps, and the last
    final, last = _final_observation(path), rows[-1]
    for side, seat in (("own", player), ("opp", other)):
        stats = result.players[seat]
        alive = last[f"{side}_lights"] + last[f"{side}_heavies"]
        assert alive == len(final["units"][seat]) == stats.robots_alive
        assert last[f"{side}_factories"] == len(final["factories"][seat]) == stats.factories_alive
        assert last[f"{side}_factory_ids"] == sorted(final["factories"][seat])
        assert last[f"{side}_factory_water"] == [f["cargo"]["water"] for f in final["factories"][seat].values()]
        assert last[f"{side}_lichen"] == stats.lichen
        lost = last[f"{side}_lights_lost_total"] + last[f"{side}_heavies_lost_total"]
        assert lost == stats.robots_built - stats.robots_alive
        for kind in ("lights", "heavies"):  # the intervals add up to the running total at every row
            running = list(accumulate(r[f"{side}_{kind}_lost"] for r in rows))
            assert running == [r[f"{side}_{kind}_lost_total"] for r in rows]
    builder = "own" if player == "player_0" else "opp"
    assert last[f"{builder}_lights_lost_total"] > 0 and last[f"{builder}_heavies_lost_total"] == 0


def test_the_command_line_prints_a_markdown_table_or_csv(short_game, capsys):
    path, _ = short_game
    assert replay_report.main([path, "--player", "player_1", "--every", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("own = player_1, opp = player_0")
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| step | own lichen (tiles) |")
    assert [line.split("|")[1].strip() for line in table[1:]] == ["4", "8", "12"]
    assert replay_report.main([path, "--player", "player_0", "--csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0].startswith("step,own_lichen,own_lichen_tiles,") and len(csv_lines) == 2  # the last step
    assert csv_lines[1].startswith("12,")


def _jsonable(obs):
    return json.loads(json.dumps(obs, default=lambda a: a.tolist()))


def test_lichen_and_intruders_are_counted_from_a_replay_of_delta_observations(tmp_path):
    board = boards.empty_board(12)
    board["lichen"][2:4, 2] = 10
    board["lichen_strains"][2:4, 2] = 0  # player_0's strain
    board["lichen"][8, 8], board["lichen_strains"][8, 8] = 7, 5  # nobody's
    first = boards.observation(board, {"unit_1": boards.robot((6, 6)), "unit_2": boards.robot((6, 7), "LIGHT")},
                               {"factory_0": boards.factory((6, 6), water=80, metal=5, power=900)}, step=1,
                               enemy_units={"unit_3": boards.enemy_robot((2, 2)),
                                            "unit_4": boards.enemy_robot((8, 8))})
    second = _jsonable(first)
    second["real_env_steps"] = 2
    second["board"] = {"rubble": {}, "lichen": {"3,2": 0, "4,2": 12}, "lichen_strains": {"3,2": -1, "4,2": 0}}
    del second["units"]["player_0"]["unit_2"]
    (tmp_path / "r.json").write_text(json.dumps({"observations": [_jsonable(first), second], "actions": [{}]}))
    first_row, last_row = replay_report.summarise(str(tmp_path / "r.json"), "player_0", every=1)
    assert (first_row["own_lichen"], first_row["own_lichen_tiles"], first_row["own_intruders"]) == (20, 2, 1)
    assert (last_row["own_lichen"], last_row["own_lichen_tiles"], last_row["own_intruders"]) == (22, 2, 1)
    assert (last_row["own_lights"], last_row["own_heavies"], last_row["own_lights_lost"]) == (0, 1, 1)
    assert (last_row["own_factory_water"], last_row["own_factory_metal"], last_row["own_factory_power"]) == (
        [80], [5], [900])
    assert (last_row["opp_lichen"], last_row["opp_intruders"], last_row["opp_factories"]) == (0, 0, 0)
    assert [r["own_lights_lost_total"] for r in (first_row, last_row)] == [0, 1]


def test_bad_arguments_are_refused(tmp_path):
    (tmp_path / "empty.json").write_text(json.dumps({"observations": []}))
    with pytest.raises(ValueError, match="not a replay JSON"):
        replay_report.summarise(str(tmp_path / "empty.json"), "player_0")
    with pytest.raises(ValueError, match="unknown player"):
        replay_report.summarise(str(tmp_path / "empty.json"), "player_2")
    with pytest.raises(ValueError, match="--every must be >= 1"):
        replay_report.summarise(str(tmp_path / "empty.json"), "player_0", every=0)
