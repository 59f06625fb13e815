from lux import actions as A
from lux.config import GameConfig
from lux.paths import moves_after_first_step, side_steps
from lux.state import GameState
from tests.helpers import boards


def _heavy(pos, power, rubble_at=None):
    board = boards.empty_board(10)
    if rubble_at is not None:
        board["rubble"][rubble_at] = 100
    obs = boards.observation(board, {"unit_1": boards.robot(pos, power=power)}, {"factory_0": boards.factory((2, 2))})
    state = GameState.from_obs(obs, GameConfig(map_size=10))
    return state.board, state.units["player_0"]["unit_1"]


def test_the_walk_goes_on_as_direction_to_would():
    board, unit = _heavy((5, 5), 3000)
    moves = moves_after_first_step(board, unit, A.DOWN, (7, 8))
    assert [m[1] for m in moves] == [A.RIGHT, A.DOWN, A.RIGHT, A.DOWN]
    assert moves_after_first_step(board, unit, A.DOWN, (5, 6)) == []  # the first step arrives
    assert moves_after_first_step(board, unit, A.DOWN, None) == []
    assert len(moves_after_first_step(board, unit, A.RIGHT, (9, 5), limit=2)) == 2


def test_the_walk_stops_where_power_runs_out():
    # A heavy: 10 for the queue, 20 for the first step, 20 a flat tile, 20 + 100 rubble = 120 for a rubbly one.
    board, unit = _heavy((5, 5), 60, rubble_at=(7, 5))
    assert moves_after_first_step(board, unit, A.RIGHT, (9, 5)) == []  # 30 left after the first step
    board, unit = _heavy((5, 5), 200, rubble_at=(8, 5))
    assert [m[1] for m in moves_after_first_step(board, unit, A.RIGHT, (9, 5))] == [A.RIGHT] * 3  # 10 left
    assert [m[1] for m in moves_after_first_step(board, unit, A.RIGHT, (9, 5), keep_power=100)] == [A.RIGHT]


def test_side_steps_cross_the_blocked_direction():
    assert side_steps(A.UP) == side_steps(A.DOWN) == (A.LEFT, A.RIGHT)
    assert side_steps(A.LEFT) == side_steps(A.RIGHT) == (A.UP, A.DOWN)
    assert side_steps(A.CENTER) == ()
