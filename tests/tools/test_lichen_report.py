import numpy as np

from lux.config import GameConfig
from lux.rules import FAILED_SCORE, decide_winner
from lux.state import GameState
from tests.helpers import boards
from tools import lichen_report


def _state(robots, rubble=None, ice_tile=(2, 8)):
    board = boards.empty_board(12)
    board["ice"][ice_tile] = 1
    if rubble is not None:
        board["rubble"] = rubble
    units = {uid: boards.robot(pos, ice=ice) for uid, (pos, ice) in robots.items()}
    return GameState.from_obs(boards.observation(board, units, {"factory_0": boards.factory((6, 6))}),
                              GameConfig(map_size=12))


def test_step_counts_rubble_dug_off_resources_and_ice_handed_to_a_factory():
    rubble = np.zeros((12, 12), dtype=np.int64)
    rubble[1, 1] = rubble[2, 8] = 40
    dug = rubble.copy()
    dug[1, 1] = dug[2, 8] = 20
    before = _state({"unit_1": ((1, 1), 0), "unit_2": ((2, 8), 0), "unit_3": ((6, 8), 60), "unit_4": ((0, 11), 30)},
                    rubble)
    after = _state({"unit_1": ((1, 1), 0), "unit_2": ((2, 8), 0), "unit_3": ((6, 8), 0), "unit_4": ((0, 11), 0)},
                   dug)
    report = lichen_report.PlayerReport("test")
    lichen_report._track_step(before, after, "player_0", report)
    assert report.rubble_dug == 20  # unit_1's dig; unit_2 stands on ice
    assert report.ice_by_factory == {"factory_0": 60}  # unit_4 dropped its ice far from any factory
    assert report.factories_lost == []


def test_command_line_prints_one_row_per_player(capsys):
    assert lichen_report.main(["--seeds", "0", "--steps", "15"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 0 |")]
    assert [r.split("|")[3].strip() for r in rows] == ["policy", "heuristic"]


def test_a_heavy_stepping_back_to_its_tile_of_two_turns_ago_is_counted():
    tiles = [(3, 3), (3, 4), (3, 3), (3, 4), (3, 5), (3, 5)]  # back, back, on, still
    states = []
    for tile in tiles:
        units = {"unit_1": boards.robot(tile), "unit_2": boards.robot((9, 9 - len(states) % 2), unit_type="LIGHT")}
        states.append(GameState.from_obs(boards.observation(boards.empty_board(12), units,
                                                            {"factory_0": boards.factory((6, 6))}),
                                         GameConfig(map_size=12)))
    report = lichen_report.PlayerReport("test")
    for before, after in zip(states, states[1:]):
        lichen_report._track_step(before, after, "player_0", report)
    assert report.heavy_turns == 5  # the light unit_2, stepping to and fro, is not counted
    assert report.heavy_back_and_forth == 2


def test_a_player_without_factories_scores_as_failed_whatever_lichen_is_left():
    standing = lichen_report.PlayerReport("a", lichen=300, factories_alive=1)
    fallen = lichen_report.PlayerReport("b", lichen=900, factories_alive=0)
    assert standing.score == 300
    assert fallen.score == FAILED_SCORE
    assert decide_winner({"A": standing.score, "B": fallen.score}) == "A"
