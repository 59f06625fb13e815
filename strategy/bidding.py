"""Bidding for the right to place the first factory."""
from __future__ import annotations

from typing import Dict

import numpy as np

from lux.state import GameState

from .maps import footprint_distance

FACTION = "AlphaStrike"
MAX_BID_SHARE = 0.1  # of the starting pool; a bid is paid in both water and metal


def bid(state: GameState, player: str) -> Dict:
    """Bid only when good spawns are scarce.

    Placing first matters when few spawns touch ice: the opponent could take the only good ones. We count the
    valid spawns whose footprint is next to ice (distance 1, a miner can stand on ice beside the factory). When
    there are plenty for both teams' factories, first pick is worth little and we bid nothing; when they are
    scarce, we bid up to a tenth of the starting water and metal.
    """
    board = state.board
    factories = max(int(board.factories_per_team), 1)
    ice_dist = footprint_distance(board.ice > 0)
    # Spawns further than 3 tiles apart could both hold factories; a coarse grid keeps the count honest.
    good = board.valid_spawns_mask & (ice_dist <= 1)
    good_spread = int(good[::3, ::3].sum())
    needed = 2 * factories
    if good_spread >= 2 * needed:
        return {"faction": FACTION, "bid": 0}
    pool = state.cfg.INIT_WATER_METAL_PER_FACTORY * factories
    scarcity = float(np.clip(1.0 - good_spread / (2.0 * needed), 0.0, 1.0))
    return {"faction": FACTION, "bid": int(round(MAX_BID_SHARE * pool * scarcity))}
