from __future__ import annotations

from lux.config import GameConfig
from lux.homes import RobotHomes, home_factories
from lux.resources import target_tiles
from lux.state import GameState
from tests.helpers import boards

N = 24


def _state(light_pos, step, factories=("factory_0", "factory_2"), ice=()) -> GameState:
    """factory_0 at (4, 8), factory_2 at (14, 8) (those named in `factories`), one light of ours."""
    board = boards.empty_board(N)
    for t in ice:
        board["ice"][t] = 1
    where = {"factory_0": (4, 8), "factory_2": (14, 8)}
    facs = {fid: boards.factory(where[fid]) for fid in factories}
    obs = boards.observation(board, {"unit_7": boards.robot(light_pos, "LIGHT")}, facs, step=step)
    return GameState.from_obs(obs, GameConfig(map_size=N))


def test_a_robot_keeps_the_factory_that_built_it_while_that_factory_stands():
    homes = RobotHomes()
    assert homes.update(_state((4, 8), step=10), "player_0") == {"unit_7": "factory_0"}  # born on its centre
    # Walked out to (11, 8), nearer factory_2: still factory_0's robot; asking twice in a turn changes nothing.
    later = _state((11, 8), step=30)
    assert homes.update(later, "player_0") == {"unit_7": "factory_0"}
    assert homes.update(later, "player_0") == {"unit_7": "factory_0"}
    # Its home destroyed, it adopts the nearest factory that is left.
    assert homes.update(_state((6, 8), step=31, factories=("factory_2",)), "player_0") == {"unit_7": "factory_2"}


def test_a_step_earlier_than_the_last_one_starts_a_new_game():
    homes = RobotHomes()
    homes.update(_state((4, 8), step=10), "player_0")
    assert homes.update(_state((11, 8), step=5), "player_0") == {"unit_7": "factory_2"}  # nearest, not remembered


def test_without_remembered_homes_each_robot_is_at_home_at_its_nearest_factory():
    state = _state((11, 8), step=10)
    units = list(state.units["player_0"].values())
    assert [f.unit_id for f in home_factories(state, "player_0", units)] == ["factory_2"]
    assert [f.unit_id for f in home_factories(state, "player_0", units, {"unit_7": "factory_0"})] == ["factory_0"]
    assert [f.unit_id for f in home_factories(state, "player_0", units, {"unit_7": "factory_9"})] == ["factory_2"]


def test_target_tiles_are_claimed_near_the_robots_home():
    # Ice two tiles from each factory's footprint; the light stands nearer factory_2.
    state = _state((11, 8), step=10, ice=[(7, 8), (17, 8)])
    units = list(state.units["player_0"].values())
    nearest = target_tiles(state, "player_0", units)
    assert nearest["ice"] == [(17, 8)] and nearest["home"] == [(13, 8)]
    remembered = target_tiles(state, "player_0", units, {"unit_7": "factory_0"})
    assert remembered["ice"] == [(7, 8)] and remembered["home"] == [(5, 8)]
