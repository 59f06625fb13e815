"""Rewards from state differences, on hand-made states."""
from __future__ import annotations

import numpy as np
import pytest

from lux.config import GameConfig
from lux.state import GameState
from tests.helpers import boards
from train.config import PRESETS, TrainConfig
from train.rewards import step_rewards

CFG = GameConfig.kaggle()
SIZE = 12


def unit(uid, pos, ice=0, ore=0, power=100, kind="LIGHT"):
    return uid, boards.robot(pos, unit_type=kind, power=power, ice=ice, ore=ore)


def state(units, factories=None, step=10, water=100, rubble=None):
    board = boards.empty_board(SIZE)
    board["ice"][2, 2] = 1
    if rubble is not None:
        board["rubble"] = rubble
    facs = {"factory_0": boards.factory((6, 6), power=500, water=water)} if factories is None else factories
    return GameState.from_obs(boards.observation(board, dict(units), facs, step=step), CFG)


def weights(**kw):
    values = dict(PRESETS["basic"], reward_scale=1.0)  # the terms' own weights; scaling is tested on its own
    values.update(kw)
    return TrainConfig.from_dict(values)


def test_dig_deliver_and_death():
    w = weights()
    before = state([unit("unit_1", (2, 2)), unit("unit_2", (6, 8), ice=40), unit("unit_3", (0, 0))])
    after = state([unit("unit_1", (2, 2), ice=2), unit("unit_2", (6, 8), ice=0)], step=11)
    r = step_rewards(before, after, "player_0", ["unit_1", "unit_2", "unit_3"], w, game_over=False)
    assert r.own[0] == pytest.approx(2 * w.reward_ice_dug)
    assert r.own[1] == pytest.approx(40 * w.reward_ice_delivered)  # next to its factory (distance 1)
    assert r.own[2] == pytest.approx(w.reward_death)
    assert r.terms["ice_delivered"] == pytest.approx(10.0)  # 40 ice = 10 water-equivalents at 1.0 each
    assert r.team == pytest.approx(0.0)


def test_no_credit_for_cargo_lost_away_from_factory_or_gained_while_moving():
    w = weights()
    before = state([unit("unit_1", (0, 9), ice=40), unit("unit_2", (2, 1))])
    after = state([unit("unit_1", (0, 9), ice=0), unit("unit_2", (2, 2), ice=5)], step=11)
    r = step_rewards(before, after, "player_0", ["unit_1", "unit_2"], w, game_over=False)
    np.testing.assert_allclose(r.own, [0.0, 0.0])


def test_power_pickup_only_when_low():
    w = weights(reward_power_pickup=0.5)
    low, high = unit("unit_1", (6, 6), power=10), unit("unit_2", (5, 5), power=120)
    after = state([unit("unit_1", (6, 6), power=110), unit("unit_2", (5, 5), power=150)], step=11)
    r = step_rewards(state([low, high]), after, "player_0", ["unit_1", "unit_2"], w, game_over=False)
    np.testing.assert_allclose(r.own, [0.5 * 1.0, 0.0])


def test_rubble_cleared_only_near_own_factories_and_off_resources():
    w = weights(reward_rubble_cleared=0.1)
    rubble = np.zeros((SIZE, SIZE))
    rubble[6, 10] = rubble[0, 0] = rubble[2, 2] = 50  # 4 from the footprint; 10 from it; an ice tile
    dug = rubble.copy()
    dug[6, 10] = dug[0, 0] = dug[2, 2] = 48
    robots = [unit("unit_1", (6, 10)), unit("unit_2", (0, 0)), unit("unit_3", (2, 2))]
    r = step_rewards(state(robots, rubble=rubble), state(robots, step=11, rubble=dug), "player_0",
                     ["unit_1", "unit_2", "unit_3"], w, game_over=False)
    np.testing.assert_allclose(r.own, [0.1 * 2, 0.0, 0.0])
    assert r.terms["rubble_cleared"] == pytest.approx(0.2)
    # Off by default: the same dig earns nothing.
    r = step_rewards(state(robots, rubble=rubble), state(robots, step=11, rubble=dug), "player_0",
                     ["unit_1", "unit_2", "unit_3"], weights(), game_over=False)
    np.testing.assert_allclose(r.own, [0.0, 0.0, 0.0])


def test_team_terms_factory_lost_water_and_survival():
    w = weights(reward_water_gained=0.1, reward_survival=2.0, reward_factory_alive=0.01)
    before = state([], water=100)
    lost = step_rewards(before, state([], factories={}, step=11), "player_0", [], w, game_over=True)
    assert lost.team == pytest.approx(w.reward_factory_lost)
    gained = step_rewards(before, state([], water=103, step=11), "player_0", [], w, game_over=False)
    assert gained.team == pytest.approx(0.3 + 0.01)
    end = step_rewards(before, state([], step=1000), "player_0", [], w, game_over=True)
    assert end.terms["survival"] == pytest.approx(2.0)


def test_reward_scale_multiplies_everything():
    before = state([unit("unit_1", (2, 2))])
    after = state([unit("unit_1", (2, 2), ice=2)], step=11)
    one = step_rewards(before, after, "player_0", ["unit_1"], weights(), False)
    three = step_rewards(before, after, "player_0", ["unit_1"], weights(reward_scale=3.0), False)
    assert three.own[0] == pytest.approx(3 * one.own[0]) and one.own[0] > 0


def test_zero_sum_terms_are_equal_and_opposite_for_the_two_players_every_step():
    """A short game of the heuristic controller on both seats, player_1's factories idle (so that the players
    differ): each zero-sum term of player_0 is minus player_1's at every step, the game result at the end too."""
    from strategy.factories import factory_actions
    from strategy.units import HeuristicUnitController
    from train.env import LuxGame
    from train.rewards import ZERO_SUM_TERMS

    w = weights(reward_result=1.0, reward_lichen_advantage=1e-3, reward_factory_advantage=0.3,
                reward_robot_advantage=0.02)
    def factories(state, player, queues):
        return factory_actions(state, player, unit_queues=queues) if player == "player_0" else {}

    game = LuxGame(seed=4, max_episode_length=30, fixed_seed=4, factory_policy=factories)
    prev = game.reset()
    controllers = {p: HeuristicUnitController() for p in ("player_0", "player_1")}
    over, paid = False, {name: 0.0 for name in ZERO_SUM_TERMS}
    while not over:
        nxt, over = game.step({p: c.act(prev, p) for p, c in controllers.items()})
        mine = step_rewards(prev, nxt, "player_0", list(prev.units["player_0"]), w, over)
        theirs = step_rewards(prev, nxt, "player_1", list(prev.units["player_1"]), w, over)
        for name in ZERO_SUM_TERMS:
            assert mine.terms[name] == pytest.approx(-theirs.terms[name]), name
            paid[name] += abs(mine.terms[name])
        prev = nxt
    assert paid["robot_advantage"] > 0  # only player_0 built robots: the term was paid
    assert paid["result"] in (0.0, 1.0)  # +-1 once at the end (0: a draw)


def test_game_result_pays_the_winner_and_charges_the_loser():
    from train.rewards import game_result

    w = weights(reward_result=1.0)
    before, end = state([]), state([], step=1000)  # player_1 has no factory: it has lost
    assert game_result(end, "player_0") == 1.0 and game_result(end, "player_1") == -1.0
    won = step_rewards(before, end, "player_0", [], w, game_over=True)
    lost = step_rewards(before, end, "player_1", [], w, game_over=True)
    assert won.terms["result"] == 1.0 and lost.terms["result"] == -1.0
    assert step_rewards(before, end, "player_0", [], w, game_over=False).terms["result"] == 0.0  # only at the end
