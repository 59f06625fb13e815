"""ObservationTracker rebuilds the engine's full observation from the runner's delta observations, every step.

The game is driven by scripted random play (bids, placements, robots built, moved and digging, lichen
watered) so that rubble, lichen, strains, units and factories all change. Each turn's observation is made
exactly as `luxai_runner.episode.Episode` makes it (`get_change_obs` against the previous step's observation,
`to_json`) and goes through a JSON round trip, as it does over the protocol.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from luxai_runner.utils import to_json
from luxai_s2 import LuxAI_S2

from lux.observation import ObservationTracker
from train.arena import GAME_CONFIGS

PLAYERS = ("player_0", "player_1")
BOARD_ARRAYS = ("rubble", "ice", "ore", "lichen", "lichen_strains", "valid_spawns_mask")


def scripted_actions(env: LuxAI_S2, rng: np.random.RandomState) -> dict:
    state = env.state
    if state.env_steps == 0:
        return {p: dict(faction="AlphaStrike", bid=int(rng.randint(0, 3))) for p in PLAYERS}
    if state.real_env_steps < 0:
        spawns = np.argwhere(state.board.valid_spawns_mask)
        # Only the player whose turn it is gets its factory; the other's request is ignored by the engine.
        return {p: dict(spawn=spawns[rng.randint(len(spawns))], metal=150, water=150) for p in PLAYERS}
    actions = {}
    for player in PLAYERS:
        orders = {}
        for fid, factory in state.factories[player].items():
            if factory.cargo.metal >= 10 and factory.power >= 50 and rng.rand() < 0.3:
                orders[fid] = 0  # build a light robot
            elif state.real_env_steps > 10 and factory.cargo.water > 60:
                orders[fid] = 2  # water lichen
        for uid, unit in state.units[player].items():
            if unit.action_queue and rng.rand() > 0.2:
                continue
            if rng.rand() < 0.4:
                orders[uid] = [[3, 0, 0, 0, 0, int(rng.randint(1, 4))]]  # dig
            else:
                orders[uid] = [[0, int(rng.randint(1, 5)), 0, 0, int(rng.randint(0, 2)), int(rng.randint(1, 4))]]
        actions[player] = orders
    return actions


def normalised(obs: dict) -> dict:
    """The JSON view of an observation (what crosses the protocol)."""
    return json.loads(json.dumps(to_json(obs)))


def assert_same_observation(rebuilt: dict, truth: dict, step: int) -> None:
    # The runner stops sending valid_spawns_mask once the game proper starts, so the mask left by the last
    # factory placement never reaches the agent (nor matters to it): compare it only while it is sent.
    keys = BOARD_ARRAYS if truth["real_env_steps"] < 0 else BOARD_ARRAYS[:-1]
    for key in keys:
        np.testing.assert_array_equal(
            np.asarray(rebuilt["board"][key]), np.asarray(truth["board"][key]),
            err_msg=f"board.{key} differs at env step {step}",
        )
    assert rebuilt["board"]["factories_per_team"] == truth["board"]["factories_per_team"]
    truth_json = normalised(truth)
    for key in ("units", "factories", "teams", "real_env_steps", "global_id"):
        assert normalised(rebuilt[key]) == truth_json[key], f"{key} differs at env step {step}"


@pytest.mark.parametrize("config, real_steps", [("kaggle", 250), ("neurips", 80)])
def test_tracker_rebuilds_full_observation_every_step(config, real_steps):
    env = LuxAI_S2(verbose=0, validate_action_space=False, **GAME_CONFIGS[config])
    env.reset(seed=11)
    rng = np.random.RandomState(5)
    tracker = ObservationTracker()
    # Turn 0: the whole observation, as the runner sends it.
    state_obs = env.state.get_compressed_obs()
    rebuilt = tracker.update(json.loads(json.dumps(to_json(state_obs))))
    assert_same_observation(rebuilt, env.state.get_obs(), 0)
    seen = dict(units=0, lichen=0, rubble_changes=0)
    while env.state.real_env_steps < real_steps:
        observations, _, terminations, truncations, _ = env.step(scripted_actions(env, rng))
        delta = env.state.get_change_obs(state_obs)
        state_obs = observations["player_0"]
        message = json.loads(json.dumps(to_json(delta)))
        assert "ice" not in message["board"]  # a real delta, not a full observation
        rebuilt = tracker.update(message)
        assert_same_observation(rebuilt, env.state.get_obs(), env.state.env_steps)
        seen["units"] = max(seen["units"], sum(len(u) for u in env.state.units.values()))
        seen["lichen"] = max(seen["lichen"], int(env.state.board.lichen.sum()))
        seen["rubble_changes"] += len(message["board"]["rubble"])
        if any(terminations.values()) or any(truncations.values()):
            break
    assert env.state.real_env_steps >= min(real_steps, 100)
    # The replay exercised what the tracker must merge.
    assert seen["units"] > 0 and seen["lichen"] > 0 and seen["rubble_changes"] > 0


def test_tracker_rejects_a_delta_as_first_observation():
    env = LuxAI_S2(verbose=0, **GAME_CONFIGS["kaggle"])
    env.reset(seed=3)
    env.step({p: dict(faction="AlphaStrike", bid=0) for p in PLAYERS})
    previous = env.state.get_obs()
    env.step({p: {} for p in PLAYERS})
    delta = json.loads(json.dumps(to_json(env.state.get_change_obs(previous))))
    with pytest.raises(ValueError):
        ObservationTracker().update(delta)
