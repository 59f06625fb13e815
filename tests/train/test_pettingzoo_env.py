"""The PettingZoo environment: PettingZoo's own API and seed tests in both game configurations, observations as
the trainer encodes them, padded actions, caller-given setup and factory functions."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from pettingzoo.test import parallel_api_test, parallel_seed_test  # noqa: E402

from lux.homes import RobotHomes  # noqa: E402
from magma_policy.actions import N_ACTIONS, NOOP  # noqa: E402
from magma_policy.features import encode  # noqa: E402
from strategy.bidding import bid  # noqa: E402
from strategy.placement import place_factory  # noqa: E402
from train.pettingzoo_env import LuxParallelEnv  # noqa: E402

SHORT = 4  # real steps per game: every test game ends, and the API test sees resets after the end


@pytest.mark.parametrize("game, size", [("kaggle", 48), ("neurips", 64)])
def test_parallel_api_test_passes(game, size):
    env = LuxParallelEnv(game=game, max_episode_length=SHORT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallel_api_test(env, num_cycles=SHORT + 2)
    # The API test only warns about some faults (an agent missing from a dict, given one when dead).
    assert not [w for w in caught if "pettingzoo" in w.filename], [str(w.message) for w in caught]
    assert env.observation_space("player_0")["map_planes"].shape[1:] == (size, size)
    obs, _ = env.reset(seed=5)
    while env.agents:
        for p, o in obs.items():
            assert env.observation_space(p).contains(o), p
        obs, rewards, terminations, truncations, infos = env.step(
            {p: env.action_space(p).sample() for p in env.agents})
    assert all(terminations.values()) and not any(truncations.values())
    assert infos["player_0"]["episode"]["episode_length"] == SHORT
    factories = infos["player_0"]["episode"]["factories_alive"] / 2
    assert (2 <= factories <= 5) if game == "kaggle" else (4 <= factories <= 10)


def test_seeded_games_repeat():
    parallel_seed_test(lambda: LuxParallelEnv(max_episode_length=SHORT), num_cycles=SHORT)
    first = LuxParallelEnv(max_episode_length=SHORT).reset(seed=11)[0]
    again = LuxParallelEnv(max_episode_length=SHORT).reset(seed=11)[0]
    other = LuxParallelEnv(max_episode_length=SHORT).reset(seed=12)[0]
    for key in first["player_0"]:
        np.testing.assert_array_equal(first["player_0"][key], again["player_0"][key])
    assert not np.array_equal(first["player_0"]["map_planes"], other["player_0"]["map_planes"])


def test_observations_are_the_trainers_encoding_padded():
    env = LuxParallelEnv(max_episode_length=SHORT, max_robots=8)
    env.reset(seed=2)
    obs, _, _, _, infos = env.step({})  # the factories build their first robots
    state = env.runner.game.state
    homes = RobotHomes()
    for p in env.agents:
        f = encode(state, p, homes.update(state, p))
        o, n = obs[p], len(f.unit_ids)
        assert 0 < n <= 8
        np.testing.assert_array_equal(o["map_planes"], f.map_planes.astype(np.float16).astype(np.float32))
        np.testing.assert_array_equal(o["global_features"], f.global_features)
        np.testing.assert_array_equal(o["unit_pos"][:n], f.unit_pos)
        np.testing.assert_array_equal(o["unit_features"][:n], f.unit_features)
        np.testing.assert_array_equal(o["unit_action_mask"][:n], f.action_mask)
        assert o["unit_valid"].tolist() == [1] * n + [0] * (8 - n)
        assert (o["unit_action_mask"][n:] == np.eye(N_ACTIONS, dtype=np.int8)[NOOP]).all()
        assert infos[p]["unit_ids"] == f.unit_ids and infos[p]["robots"] == n


def test_forbidden_actions_become_noop_and_bad_actions_are_errors():
    env = LuxParallelEnv(max_episode_length=SHORT, max_robots=8)
    env.reset(seed=2)
    obs, _, _, _, infos = env.step({})
    sent = []
    real_step = env.runner.step

    def record(chosen):
        sent.append([c.tolist() for c in chosen])
        return real_step(chosen)

    env.runner.step = record
    p = "player_0"
    n = infos[p]["robots"]
    mask = obs[p]["unit_action_mask"]
    # Alternately a forbidden action (where the mask has one) and an allowed one; padding rows hold anything.
    rows = [np.flatnonzero(row == (i % 2)) for i, row in enumerate(mask[:n])]
    wanted = np.array([r[-1] if len(r) else NOOP for r in rows] + [N_ACTIONS - 1] * (8 - n))
    assert n >= 2 and not mask[np.arange(n), wanted[:n]].all()
    with pytest.raises(ValueError, match="expected 8 action ids"):
        env.step({p: wanted[:3]})
    with pytest.raises(ValueError, match="action ids must be in"):
        env.step({p: np.full(8, N_ACTIONS)})
    env.step({p: wanted})
    assert sent[-1][0] == [a if mask[i, a] else NOOP for i, a in enumerate(wanted[:n])]
    assert set(sent[-1][1]) <= {NOOP}  # a player without an action: every robot NOOP


def test_caller_gives_bidding_placement_and_factories():
    calls = {"bid": 0, "place": 0, "factories": 0}

    def bidder(state, player):
        calls["bid"] += 1
        return dict(bid(state, player), bid=0)

    def placer(state, player):
        calls["place"] += 1
        return place_factory(state, player)

    def no_factory_actions(state, player, robot_queues):
        calls["factories"] += 1
        return {}

    env = LuxParallelEnv(max_episode_length=SHORT, bidder=bidder, placer=placer, factory_policy=no_factory_actions)
    obs, infos = env.reset(seed=4)
    assert calls["bid"] == 2 and calls["place"] >= 4
    while env.agents:
        obs, _, _, _, infos = env.step({})
    assert calls["factories"] == 2 * SHORT
    assert infos["player_0"]["robots"] == infos["player_1"]["robots"] == 0  # no factory ever built a robot
