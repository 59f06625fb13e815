"""Trajectory separation: which trajectory each robot's rewards, values and log-probabilities follow.

A *trajectory* is what one advantage estimate follows through time. Each robot (unit) of a learning player
belongs at step t to one trajectory key k of its (env, player) observation b:

    separated: k = the unit's slot (one trajectory per unit, from birth to death)
    grouped:   k = its group (nearest own factory, or one of N random groups fixed at birth)
    global:    k = 0 (one trajectory per player: the single-brain baseline)

The per-unit reward mixes the unit's own reward with the team's (w = `reward_own_weight`):

    r_i        = w * r_own_i + (1 - w) * r_team            (separate reward)
    r_i        = r_team                                    (global reward)
    r_team     = team terms + mean over the player's units of r_own_i

Slots freed by dead units are reused only a step later, so a new unit in a reused slot starts a fresh
trajectory. How a key's reward, value, log-probability and entropy come from its members (the switches of
`SeparationSwitches`), GAE along each key and the losses: train/ppo.py.
"""
from __future__ import annotations

import collections
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Tuple

import numpy as np

MODES = ("separated", "grouped", "global")
GROUPINGS = ("factory", "random")


class SlotMap:
    """Maps engine unit ids of one (env, player) to slots 0..capacity-1 with a free-list.

    Engine ids grow without bound over a game, so they are never used as indices. A slot freed at one step is
    only handed out again from the step after the next `assign`, so a new unit never continues a dead unit's
    trajectory in the same slot it just left.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("slot capacity must be >= 1, got %d" % capacity)
        self.capacity = capacity
        self.slots: Dict[str, int] = {}
        self._free = collections.deque(range(capacity))
        self._released: List[int] = []

    def assign(self, unit_ids: Iterable[str]) -> np.ndarray:
        """Slots of the units alive now (in the given order); units gone since the last call free theirs."""
        unit_ids = list(unit_ids)
        alive = set(unit_ids)
        # Slots released by the previous call become usable now; those released now wait a step.
        self._free.extend(self._released)
        self._released = [s for uid, s in self.slots.items() if uid not in alive]
        for uid in [uid for uid in self.slots if uid not in alive]:
            del self.slots[uid]
        out = np.empty(len(unit_ids), dtype=np.int64)
        for i, uid in enumerate(unit_ids):
            slot = self.slots.get(uid)
            if slot is None:
                if not self._free:
                    raise RuntimeError("more than %d units alive for one player: raise max_units" % self.capacity)
                slot = self._free.popleft()
                self.slots[uid] = slot
            out[i] = slot
        return out

    def reset(self) -> None:
        self.__init__(self.capacity)


def random_group(unit_id: str, n_groups: int) -> int:
    """A unit's random group, fixed for its life (a stable hash of its id)."""
    return zlib.crc32(unit_id.encode()) % n_groups


@dataclass
class SeparationSwitches:
    """Which quantities follow each trajectory key (True) or the whole player (False)."""

    reward: bool = True
    value: bool = True
    logprob: bool = True
    entropy: bool = True


def switches_from(cfg: Any) -> SeparationSwitches:
    """The separation switches of a training config; mode=global makes every quantity the player's."""
    if cfg.mode == "global":
        return SeparationSwitches(reward=False, value=False, logprob=False, entropy=False)
    return SeparationSwitches(bool(cfg.separate_reward), bool(cfg.separate_value),
                              bool(cfg.separate_logprob), bool(cfg.separate_entropy))


def mix_rewards(own: np.ndarray, team_terms: float, w: float, separate: bool) -> Tuple[np.ndarray, float]:
    """Per-unit rewards r_i and the team reward r_team of one observation (see the module docstring)."""
    team = float(team_terms) + (float(own.mean()) if len(own) else 0.0)
    if not separate:
        return np.full(len(own), team, dtype=np.float32), team
    return (w * own + (1.0 - w) * team).astype(np.float32), team
