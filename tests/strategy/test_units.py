"""The heuristic controller in real games: no own collisions, no invalid actions, factories kept alive."""
import numpy as np
import pytest

from lux import actions as A
from tests.game import KAGGLE, NEURIPS, InvalidActionCounter, play_to_end


def next_tile(unit, queue):
    """Where a robot will be after this step, given the queue it will run."""
    if queue and int(queue[0][0]) == A.MOVE:
        return tuple(int(v) for v in unit.pos + A.DIRECTION_DELTAS[int(queue[0][1])])
    return tuple(int(v) for v in unit.pos)


@pytest.mark.parametrize("game", [KAGGLE, NEURIPS], ids=["kaggle", "neurips"])
def test_no_own_collisions_and_no_invalid_actions(game):
    collisions = []

    def check(env, states, actions):
        for player, state in states.items():
            tiles = []
            for uid, unit in state.units[player].items():
                queue = actions[player].get(uid, unit.action_queue)
                tiles.append(next_tile(unit, queue))
            if len(tiles) != len(set(tiles)):
                collisions.append((state.real_env_steps, player))

    with InvalidActionCounter() as invalid:
        env, step = play_to_end(seed=4, game=game, steps=300, on_step=check)
    assert collisions == []
    assert invalid.count == 0
    assert step == 300
    assert all(len(f) > 0 for f in env.state.factories.values())


def test_miners_deliver_ice():
    env, _ = play_to_end(seed=6, game=KAGGLE, steps=200)
    # Starting water per factory is at most a few hundred; after 200 steps of upkeep the stock only stays up
    # when ice was delivered and refined.
    water = [f.cargo.water for fs in env.state.factories.values() for f in fs.values()]
    assert water and np.mean(water) > 100
