"""The agent: policy when it loads, heuristic fallback otherwise, time budget, and no exception ever escapes."""
import dataclasses
import sys
import time
import types

import numpy as np
import pytest
from luxai_s2 import LuxAI_S2

import agent as agent_module
from agent import Agent
from lux.actions import BUILD_HEAVY, BUILD_LIGHT, WATER_LICHEN
from tests.game import KAGGLE, play


@pytest.fixture(scope="module")
def midgame():
    """(env_cfg, full observation) 40 steps into a real game, with robots on the board."""
    for env, step in play(seed=2, game=KAGGLE, steps=60):
        if step == 40:
            obs = env.state.get_obs()
            assert any(obs["units"][p] for p in obs["units"])
            return dataclasses.asdict(env.state.env_cfg), obs
    raise AssertionError("the game ended early")


class FakePolicy:
    """Stands in for magma_policy's PolicyRuntime: one fixed queue per robot, optionally slow or broken."""

    backend = "fake"

    def __init__(self, delay=0.0, error=None):
        self.delay, self.error, self.calls = delay, error, 0

    def seed(self, seed):
        self.seeded = seed

    def act(self, state, player, temperature=0.0):
        self.calls += 1
        self.temperature = temperature
        if self.error is not None:
            raise self.error
        time.sleep(self.delay)
        return {uid: [[5, 0, 0, 150, 0, 1]] for uid in state.units[player]}


@pytest.fixture
def fake_runtime(monkeypatch, tmp_path):
    """A weights file and a magma_policy.runtime whose load_policy returns a FakePolicy."""
    weights = tmp_path / "policy.onnx"
    weights.write_bytes(b"weights")
    loaded = []

    def load_policy(path=None, backend="auto"):
        loaded.append(path)
        return FakePolicy()

    import magma_policy.runtime as real_runtime

    package = types.ModuleType("magma_policy")
    runtime = types.ModuleType("magma_policy.runtime")
    runtime.load_policy = load_policy
    runtime.check_temperature = real_runtime.check_temperature
    package.runtime = runtime
    monkeypatch.setitem(sys.modules, "magma_policy", package)
    monkeypatch.setitem(sys.modules, "magma_policy.runtime", runtime)
    monkeypatch.delenv(agent_module.UNIT_CONTROLLER_ENV, raising=False)
    return str(weights), loaded


def test_policy_drives_robots_when_weights_load(midgame, fake_runtime):
    env_cfg, obs = midgame
    weights, loaded = fake_runtime
    agent = Agent("player_0", env_cfg, weights_path=weights, unit_controller="auto")
    assert loaded == [weights] and agent.unit_controller == "policy"
    actions = agent.act(50, obs)
    robots = set(obs["units"]["player_0"])
    assert robots and {k for k in actions if k in robots} == robots
    assert all(actions[uid] == [[5, 0, 0, 150, 0, 1]] for uid in robots)
    assert all(actions[k] in (BUILD_LIGHT, BUILD_HEAVY, WATER_LICHEN) for k in actions if k.startswith("factory_"))


def test_robots_sample_at_the_policys_temperature_unless_one_is_set(midgame, fake_runtime, monkeypatch, capsys):
    env_cfg, obs = midgame
    weights, _ = fake_runtime
    monkeypatch.setattr(FakePolicy, "play_temperature", 0.7, raising=False)  # from the policy's metadata
    for value, expected in ((None, 0.7), ("1", 1.0), ("0", 0.0), ("warm", 0.7), ("-1", 0.7), ("nan", 0.7)):
        if value is None:
            monkeypatch.delenv(agent_module.TEMPERATURE_ENV, raising=False)
        else:
            monkeypatch.setenv(agent_module.TEMPERATURE_ENV, value)
        agent = Agent("player_0", env_cfg, weights_path=weights, unit_controller="auto")
        agent.act(50, obs)
        assert agent.policy.temperature == expected, value
    assert "is not a number >= 0" in capsys.readouterr().err


def test_heuristic_when_weights_are_missing(midgame, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(agent_module.UNIT_CONTROLLER_ENV, raising=False)
    env_cfg, obs = midgame
    agent = Agent("player_0", env_cfg, weights_path=str(tmp_path / "none.onnx"), unit_controller="auto")
    assert agent.unit_controller == "heuristic"
    assert "no policy weights" in capsys.readouterr().err
    assert isinstance(agent.act(50, obs), dict)


def test_heuristic_when_the_weights_fail_to_load(midgame, fake_runtime, capsys):
    env_cfg, _ = midgame
    weights, _ = fake_runtime

    def broken(path=None, backend="auto"):
        raise ValueError("not an ONNX model")

    sys.modules["magma_policy.runtime"].load_policy = broken
    agent = Agent("player_1", env_cfg, weights_path=weights, unit_controller="auto")
    assert agent.unit_controller == "heuristic"
    assert "not an ONNX model" in capsys.readouterr().err


def test_heuristic_controller_can_be_forced(midgame, fake_runtime, monkeypatch):
    env_cfg, _ = midgame
    weights, loaded = fake_runtime
    assert Agent("player_0", env_cfg, weights_path=weights, unit_controller="heuristic").unit_controller == "heuristic"
    monkeypatch.setenv(agent_module.UNIT_CONTROLLER_ENV, "heuristic")
    assert Agent("player_0", env_cfg, weights_path=weights).unit_controller == "heuristic"
    assert loaded == []


def test_the_heuristic_controller_is_the_default_and_the_policy_is_one_setting_away(midgame, fake_runtime,
                                                                                   monkeypatch):
    env_cfg, _ = midgame
    weights, loaded = fake_runtime
    assert agent_module.DEFAULT_UNIT_CONTROLLER == "heuristic"
    assert Agent("player_0", env_cfg, weights_path=weights).unit_controller == "heuristic"
    assert loaded == []  # the default does not even load the weights
    monkeypatch.setenv(agent_module.UNIT_CONTROLLER_ENV, "policy")
    assert Agent("player_0", env_cfg, weights_path=weights).unit_controller == "policy"
    assert loaded == [weights]


def test_a_slow_turn_switches_to_the_heuristic_for_good(midgame, fake_runtime, monkeypatch, capsys):
    env_cfg, obs = midgame
    monkeypatch.setattr(agent_module, "SLOW_TURN_S", 0.01)
    agent = Agent("player_0", env_cfg, weights_path=fake_runtime[0])
    slow = agent.policy = FakePolicy(delay=0.05)
    agent.act(50, obs)
    assert agent.unit_controller == "heuristic" and "heuristic controller from now on" in capsys.readouterr().err
    agent.act(51, obs)
    assert slow.calls == 1


def test_low_overage_switches_to_the_heuristic(midgame, fake_runtime):
    env_cfg, obs = midgame
    agent = Agent("player_0", env_cfg, weights_path=fake_runtime[0], unit_controller="auto")
    agent.act(50, obs, remaining_overage_time=30.0)
    assert agent.unit_controller == "policy"
    agent.act(51, obs, remaining_overage_time=agent_module.LOW_OVERAGE_S - 1)
    assert agent.unit_controller == "heuristic"


def test_a_failing_policy_is_replaced_within_the_same_turn(midgame, fake_runtime, capsys):
    env_cfg, obs = midgame
    agent = Agent("player_0", env_cfg, weights_path=fake_runtime[0])
    agent.policy = FakePolicy(error=RuntimeError("bad tensor"))
    actions = agent.act(50, obs)
    assert agent.unit_controller == "heuristic" and "bad tensor" in capsys.readouterr().err
    expected = agent.heuristic.act(agent_module.GameState.from_obs(obs, agent.cfg), "player_0")
    assert {k: v for k, v in actions.items() if k.startswith("unit_")} == expected


def test_errors_inside_act_give_safe_actions(midgame, monkeypatch, capsys):
    env_cfg, obs = midgame
    agent = Agent("player_0", env_cfg, unit_controller="heuristic")
    assert agent.act(50, {"board": 5}) == {}

    def broken(*args, **kwargs):
        raise KeyError("cargo")

    monkeypatch.setattr(agent_module, "factory_actions", broken)
    actions = agent.act(50, obs)
    assert not any(k.startswith("factory_") for k in actions)
    monkeypatch.setattr(agent.heuristic, "act", broken)
    assert agent.act(50, obs) == {}
    assert "factory actions failed" in capsys.readouterr().err


def test_setup_errors_still_bid_and_place(monkeypatch):
    env = LuxAI_S2(verbose=0, **KAGGLE)
    obs, _ = env.reset(seed=1)
    agent = Agent("player_0", dataclasses.asdict(env.state.env_cfg), unit_controller="heuristic")

    def broken(*args, **kwargs):
        raise ValueError("scores")

    monkeypatch.setattr(agent_module, "bid", broken)
    monkeypatch.setattr(agent_module, "place_factory", broken)
    assert agent.early_setup(0, obs["player_0"]) == {"faction": agent_module.FACTION, "bid": 0}
    assert agent.early_setup(0, {"board": None}) == {"faction": agent_module.FACTION, "bid": 0}
    obs, *_ = env.step({p: {"faction": "AlphaStrike", "bid": 0} for p in env.agents})
    placement = agent.early_setup(1, obs["player_0"])  # player_0 wins a tied bid and places first
    x, y = placement["spawn"]
    assert np.asarray(obs["player_0"]["board"]["valid_spawns_mask"])[x, y]
    assert placement["water"] > 0 and placement["metal"] > 0
    assert agent.early_setup(2, obs["player_0"]) == {}  # not our turn


def test_sampled_play_is_reproducible(midgame, monkeypatch):
    monkeypatch.delenv(agent_module.UNIT_CONTROLLER_ENV, raising=False)
    env_cfg, obs = midgame
    agents = [Agent("player_0", env_cfg, unit_controller="policy", temperature=1.0) for _ in range(2)]
    assert all(a.unit_controller == "policy" for a in agents)  # the shipped weights
    turns = [[a.act(50 + t, obs) for t in range(5)] for a in agents]
    assert turns[0] == turns[1]
