"""Bidding for the right to place the first factory."""
from __future__ import annotations

from typing import Dict

import numpy as np

from lux.state import GameState

from .maps import footprint_distance, manhattan_distance, window_sum

FACTION = "AlphaStrike"
MAX_BID_SHARE = 0.1  # of the starting pool; a bid is paid in both water and metal


def bid(state: GameState, player: str) -> Dict:
    """Bid only when good spawns are scarce.

    Placing first matters when few spawns touch ice: the opponent could take the only good ones. We count how
    many factories could stand at once on valid spawns next to ice (footprint at distance 1: a miner digs the
    ice beside the factory), each with an ice tile of its own. When there are plenty for both teams'
    factories, first pick is worth little and we bid nothing; when they are scarce, we bid up to a tenth of
    the starting water and metal.
    """
    board = state.board
    factories = max(int(board.factories_per_team), 1)
    ice_dist = footprint_distance(board.ice > 0)
    good = board.valid_spawns_mask & (ice_dist <= 1)
    needed = 2 * factories
    # Factories around one ice tile share it: a good spot needs its own ice tile as well as its own ground.
    footprints = window_sum(good, 1) > 0
    ice_in_reach = int(((board.ice > 0) & (manhattan_distance(footprints) <= 1)).sum())
    good_spread = min(packable_spawns(good, limit=2 * needed), ice_in_reach)
    if good_spread >= 2 * needed:
        return {"faction": FACTION, "bid": 0}
    pool = state.cfg.INIT_WATER_METAL_PER_FACTORY * factories
    scarcity = float(np.clip(1.0 - good_spread / (2.0 * needed), 0.0, 1.0))
    return {"faction": FACTION, "bid": int(round(MAX_BID_SHARE * pool * scarcity))}


def packable_spawns(mask: np.ndarray, limit: int) -> int:
    """How many factories could stand on `mask` tiles at once (greedy, row-major), counting up to `limit`.

    Two factories' 3x3 footprints overlap when their centres are less than 3 apart on both axes, so each pick
    rules out the 5x5 square around it. Neighbouring good tiles are mostly one spot, not several.
    """
    free = mask.astype(bool).copy()
    count = 0
    for x, y in np.argwhere(mask):
        if count >= limit:
            break
        if free[x, y]:
            count += 1
            free[max(x - 2, 0): x + 3, max(y - 2, 0): y + 3] = False
    return count
