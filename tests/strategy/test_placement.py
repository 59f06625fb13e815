"""Bids are affordable, factories go on valid spawns only, and water and metal are never over-spent."""
import dataclasses

import numpy as np
import pytest
from luxai_s2 import LuxAI_S2

from lux.config import GameConfig
from lux.state import GameState
from strategy.bidding import bid
from strategy.placement import my_turn_to_place, place_factory, spawn_scores
from tests.game import KAGGLE, NEURIPS


@pytest.mark.parametrize("game", [KAGGLE, NEURIPS], ids=["kaggle", "neurips"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_setup_phase_places_every_factory_validly(game, seed):
    env = LuxAI_S2(verbose=0, **game)
    obs, _ = env.reset(seed=seed)
    cfg = GameConfig.from_dict(dataclasses.asdict(env.state.env_cfg))
    state = GameState.from_obs(obs["player_0"], cfg)
    bids = {p: bid(state, p) for p in env.agents}
    pool = cfg.INIT_WATER_METAL_PER_FACTORY * state.board.factories_per_team
    for b in bids.values():
        assert 0 <= b["bid"] <= pool
    obs, *_ = env.step(bids)
    step = 1
    while obs["player_0"]["real_env_steps"] < 0:
        actions = {}
        for p in env.agents:
            state = GameState.from_obs(obs[p], cfg)
            team = state.teams[p]
            if my_turn_to_place(state, p, step):
                a = place_factory(state, p)
                x, y = a["spawn"]
                assert state.board.valid_spawns_mask[x, y]
                assert 0 <= a["water"] <= team.water and 0 <= a["metal"] <= team.metal
                actions[p] = a
            else:
                actions[p] = {}
        obs, *_ = env.step(actions)
        step += 1
    for p in env.agents:
        assert len(env.state.factories[p]) == env.state.board.factories_per_team
        team = env.state.get_obs()["teams"][p]
        assert team["water"] >= 0 and team["metal"] >= 0


def best_spawn(n, ice_tiles, ore_tiles=()):
    """The best-scored spawn on an empty n x n board with ice and ore where given, no factory placed yet."""
    zeros = np.zeros((n, n), dtype=np.int64)
    ice, ore = zeros.copy(), zeros.copy()
    for tile in ice_tiles:
        ice[tile] = 1
    for tile in ore_tiles:
        ore[tile] = 1
    obs = {"board": dict(rubble=zeros, ice=ice, ore=ore, lichen=zeros, lichen_strains=zeros - 1,
                         valid_spawns_mask=np.ones((n, n), dtype=bool), factories_per_team=2),
           "units": {}, "factories": {}, "teams": {}, "real_env_steps": -5}
    scores = spawn_scores(GameState.from_obs(obs, GameConfig.kaggle()), "player_0")
    return np.unravel_index(int(np.argmax(scores)), scores.shape)


def test_spawn_score_prefers_ice_next_to_the_factory():
    x, y = best_spawn(20, [(15, 10)])
    assert abs(x - 15) + abs(y - 10) <= 3  # the footprint touches or nearly touches the ice tile


def test_spawn_score_avoids_ice_a_placed_factory_already_mines():
    cfg = GameConfig.kaggle()
    n = 30
    zeros = np.zeros((n, n), dtype=np.int64)
    ice = zeros.copy()
    ice[5, 10] = 1  # next to our factory placed below
    ice[24, 20] = 1  # free
    spawns = np.ones((n, n), dtype=bool)
    spawns[2:9, 4:11] = False  # around the placed factory
    factory = {"unit_id": "factory_0", "team_id": 0, "strain_id": 0, "pos": [5, 7], "power": 0,
               "cargo": {"ice": 0, "ore": 0, "water": 0, "metal": 0}}
    obs = {"board": dict(rubble=zeros, ice=ice, ore=zeros, lichen=zeros, lichen_strains=zeros - 1,
                         valid_spawns_mask=spawns, factories_per_team=2),
           "units": {}, "factories": {"player_0": {"factory_0": factory}}, "teams": {}, "real_env_steps": -5}
    scores = spawn_scores(GameState.from_obs(obs, cfg), "player_0")
    x, y = np.unravel_index(int(np.argmax(scores)), scores.shape)
    assert abs(x - 24) + abs(y - 20) <= 3  # (5, 10) is as close to free ground, but already ours to mine


def test_spawn_score_takes_ice_with_ore_in_reach_over_ice_alone():
    # Ice with no ore anywhere near at (8, 8); as good ice at (30, 30) with ore four tiles further.
    x, y = best_spawn(40, [(8, 8), (30, 30)], [(30, 35)])
    assert abs(x - 30) + abs(y - 30) <= 3
