"""Each robot's home factory: the factory that built it, remembered over the turns of a game.

A robot serves its home: it delivers there, recharges there, and mines the tiles nearest to it, even when its
walk passes nearer another factory. A robot appears on the centre of the factory that built it, so the first
time it is seen its nearest factory is its home; when the home is destroyed the robot adopts its nearest
factory. The heuristic controller and the policy's features read homes from here, so the policy sees the same
home the controller walks to.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from .state import Factory, GameState, Unit, footprint_gap


def nearest_factory(pos: np.ndarray, facs: Sequence[Factory]) -> np.ndarray:
    """Index into `facs` of each position's nearest factory (distance to the footprint, as
    Factory.distance_to; the first listed on ties)."""
    centres = np.array([f.pos for f in facs], dtype=np.int64)
    gap = footprint_gap(pos[:, None, 0], pos[:, None, 1], centres[None, :, 0], centres[None, :, 1])
    return np.argmin(gap, axis=1)


def home_factories(state: GameState, player: str, units: Sequence[Unit],
                   homes: Optional[Mapping[str, str]] = None) -> List[Factory]:
    """The home Factory of each robot in `units` order: `homes[unit_id]` while that factory stands, else the
    nearest of the player's factories. The player must have at least one factory."""
    facs = list(state.factories.get(player, {}).values())
    if not facs:
        raise ValueError("%s has no factory: no robot has a home" % player)
    by_id = state.factories[player]
    out: List[Optional[Factory]] = [by_id.get(homes.get(u.unit_id, "")) if homes else None for u in units]
    missing = [i for i, f in enumerate(out) if f is None]
    if missing:
        pos = np.array([units[i].pos for i in missing], dtype=np.int64).reshape(-1, 2)
        for i, j in zip(missing, nearest_factory(pos, facs)):
            out[i] = facs[int(j)]
    return out


class RobotHomes:
    """Remembers each robot's home factory id, per player. One instance may follow both players and any number
    of games in a row: a step earlier than the last one seen starts a new game. Updating twice in one turn gives
    the same answer, so a controller and an encoder may share one instance."""

    def __init__(self) -> None:
        self._homes: Dict[str, Dict[str, str]] = {}  # player -> robot id -> home factory id
        self._last_step: Dict[str, int] = {}

    def update(self, state: GameState, player: str) -> Dict[str, str]:
        """Robot id -> home factory id for the player's robots now (empty when it has no factory)."""
        step = int(state.real_env_steps)
        if step < self._last_step.get(player, step):
            self._homes[player] = {}
        self._last_step[player] = step
        units = list(state.units.get(player, {}).values())
        if not units or not state.factories.get(player):
            self._homes[player] = {}
            return {}
        found = home_factories(state, player, units, self._homes.get(player))
        self._homes[player] = {u.unit_id: f.unit_id for u, f in zip(units, found)}
        return dict(self._homes[player])
