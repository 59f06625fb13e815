import numpy as np

from lux import actions as A
from lux.config import GameConfig
from lux.paths import moves_after_first_step, side_steps, steps_downhill, steps_level, walk_ahead, walk_costs
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


def _costs(rubble, robot="HEAVY", n=10):
    from lux.rules import move_power
    return move_power(GameConfig(map_size=n).ROBOTS[robot], rubble)


def test_walk_costs_are_the_least_power_to_the_nearest_goal():
    rubble = np.zeros((10, 10), dtype=np.int64)
    move_cost = _costs(rubble)  # 20 a heavy's move on flat ground
    costs = walk_costs(move_cost, np.zeros((10, 10), dtype=bool), [(0, 0), (9, 9)])
    assert costs[0, 0] == costs[9, 9] == 0
    assert costs[3, 4] == 7 * 20  # 7 moves from (0, 0), 11 from (9, 9)
    assert costs[8, 6] == 4 * 20


def test_walk_costs_go_round_rubble_and_blocked_tiles():
    rubble = np.zeros((10, 10), dtype=np.int64)
    rubble[5, 3:8] = 100  # a wall of rubble across the straight way from (5, 2) to (5, 8) ...
    rubble[5, 5] = 0  # ... with a gap
    blocked = np.zeros((10, 10), dtype=bool)
    move_cost = _costs(rubble)
    costs = walk_costs(move_cost, blocked, [(5, 8)])
    # Straight on costs 120 + 120 + 20 + 120 + 120 + 20 = 520; round the wall: 1 + 6 + 1 flat moves.
    assert costs[5, 2] == 20 * 8
    blocked[:, :] = True
    blocked[5, :] = False  # now only the column of the wall is open
    costs = walk_costs(move_cost, blocked, [(5, 8)])
    assert costs[5, 2] == 520
    assert np.isinf(walk_costs(move_cost, np.ones((10, 10), dtype=bool), [(5, 8)])[5, 2])  # nowhere to enter


def test_steps_downhill_only_bring_the_walker_nearer():
    rubble = np.zeros((10, 10), dtype=np.int64)
    rubble[6, 5] = 100
    move_cost = _costs(rubble)
    costs = walk_costs(move_cost, np.zeros((10, 10), dtype=bool), [(8, 8)])
    steps = steps_downhill(costs, move_cost, (5, 5))
    # Right (onto the rubble) and down both get nearer; down is cheaper. Up and left lead away.
    assert steps == [(A.DOWN, (5, 6)), (A.RIGHT, (6, 5))]
    assert steps_downhill(costs, move_cost, (8, 8)) == []  # arrived
    for here in [(0, 0), (3, 7), (9, 2), (5, 5)]:  # every step of a walk lowers what is left to pay
        for _, tile in steps_downhill(costs, move_cost, here):
            assert costs[tile] < costs[here]


def test_walk_ahead_follows_the_cheapest_way_while_power_lasts():
    rubble = np.zeros((10, 10), dtype=np.int64)
    rubble[3, 0:9] = 100  # the way along x from (1, 1) is walled, except at y = 9
    move_cost = _costs(rubble, "LIGHT")  # a light: 1 a move, 6 onto 100 rubble
    costs = walk_costs(move_cost, np.zeros((10, 10), dtype=bool), [(5, 1)])
    walk = [m[1] for m in walk_ahead(costs, move_cost, (1, 1), power=100, limit=10)]
    x, y = 1, 1
    for d in walk:
        x, y = x + A.DIRECTION_STEPS[d][0], y + A.DIRECTION_STEPS[d][1]
    assert (x, y) == (5, 1) and len(walk) == 4  # straight over the wall: 1 + 6 + 1 + 1 beats the long way round
    assert len(walk_ahead(costs, move_cost, (1, 1), power=2, limit=10)) == 1  # 1 for the first, 6 for the next


def test_steps_level_keep_the_walker_as_near():
    move_cost = _costs(np.zeros((10, 10), dtype=np.int64))
    costs = walk_costs(move_cost, np.zeros((10, 10), dtype=bool), [(2, 2), (2, 3)])
    # From (3, 2), one move from the goal; (3, 3) is one move too, (3, 1) and (4, 2) two.
    assert steps_level(costs, move_cost, (3, 2)) == [(A.DOWN, (3, 3))]
    assert steps_level(costs, move_cost, (2, 2)) == [(A.DOWN, (2, 3))]  # on a goal: the other goal
