"""Bids follow the map: nothing when ice-side spawns are plentiful, something affordable when they are scarce."""
import numpy as np

from lux.config import GameConfig
from lux.state import GameState
from strategy.bidding import MAX_BID_SHARE, bid

N = 48


def state_with_ice(ice: np.ndarray, factories_per_team: int = 3) -> GameState:
    zeros = np.zeros((N, N), dtype=np.int64)
    spawns = np.zeros((N, N), dtype=bool)
    spawns[2:-2, 2:-2] = True
    obs = {"board": dict(rubble=zeros, ice=ice.astype(np.int64), ore=zeros, lichen=zeros, lichen_strains=zeros - 1,
                         valid_spawns_mask=spawns & (ice == 0), factories_per_team=factories_per_team),
           "units": {}, "factories": {}, "teams": {}, "real_env_steps": -10}
    return GameState.from_obs(obs, GameConfig.kaggle())


def test_no_bid_when_ice_is_everywhere():
    ice = np.zeros((N, N), dtype=bool)
    ice[::6, ::6] = True
    assert bid(state_with_ice(ice), "player_0") == {"faction": "AlphaStrike", "bid": 0}


def test_bids_when_ice_is_scarce_and_never_more_than_a_share_of_the_pool():
    ice = np.zeros((N, N), dtype=bool)
    ice[24, 24] = True
    state = state_with_ice(ice)
    pool = state.cfg.INIT_WATER_METAL_PER_FACTORY * 3
    amount = bid(state, "player_1")["bid"]
    assert 0 < amount <= MAX_BID_SHARE * pool


def test_scarcer_ice_never_lowers_the_bid():
    rng = np.random.RandomState(0)
    bids = []
    for density in (0.05, 0.01, 0.002):
        ice = rng.rand(N, N) < density
        bids.append(bid(state_with_ice(ice), "player_0")["bid"])
    assert bids == sorted(bids) and bids[-1] > bids[0]
