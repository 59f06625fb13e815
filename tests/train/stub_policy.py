"""A small stand-in for magma_policy (features, actions, network) with the same interfaces.

The trainer's tests install it in sys.modules so they exercise the trainer's own machinery (rollouts,
separation, checkpoints) fast and independently of the real policy; forked env workers inherit it.
"""
from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

import numpy as np
import torch

from lux import actions as A
from lux.state import GameState

N_ACTIONS = 6  # stay, 4 moves, dig


@dataclass
class Features:
    map_planes: np.ndarray
    global_features: np.ndarray
    unit_ids: List[str]
    unit_pos: np.ndarray
    unit_features: np.ndarray
    action_mask: np.ndarray
    targets: Optional[dict] = None  # the stub has no GO actions


def encode(state: GameState, player: str, homes: Optional[Mapping[str, str]] = None) -> Features:
    """The stub's view: no homes (`homes` is accepted as the real encode accepts it, and ignored)."""
    board = state.board
    units = [state.units[player][k] for k in sorted(state.units.get(player, {}))]
    own = np.zeros(board.rubble.shape, dtype=np.float32)
    for u in units:
        own[u.pos[0], u.pos[1]] = 1.0
    planes = np.stack([board.ice > 0, board.ore > 0, own]).astype(np.float32)
    pos = np.array([u.pos for u in units], dtype=np.int64).reshape(-1, 2)
    feats = np.array([[u.power / u.cfg.BATTERY_CAPACITY, u.cargo.ice / u.cfg.CARGO_SPACE] for u in units],
                     dtype=np.float32).reshape(-1, 2)
    mask = np.ones((len(units), N_ACTIONS), dtype=bool)
    for i, u in enumerate(units):
        for d in range(1, 5):
            if not board.in_bounds(u.pos + A.DIRECTION_DELTAS[d]):
                mask[i, d] = False
        mask[i, 5] = bool(board.ice[u.pos[0], u.pos[1]] or board.ore[u.pos[0], u.pos[1]])
    glob = np.array([state.real_env_steps / 1000.0, len(units) / 10.0], dtype=np.float32)
    return Features(planes, glob, [u.unit_id for u in units], pos, feats, mask)


def decode(state: GameState, player: str, unit_ids: List[str], chosen: np.ndarray,
           targets: Optional[dict] = None) -> Dict[str, list]:
    out = {}
    for uid, a in zip(unit_ids, chosen):
        unit = state.units[player][uid]
        if a == 0 or unit.power < unit.cfg.ACTION_QUEUE_POWER_COST + unit.cfg.MOVE_COST + unit.cfg.DIG_COST:
            continue
        action = A.move(int(a)) if a < 5 else A.dig()
        if unit.action_queue and list(unit.action_queue[0][:2]) == action[:2]:
            continue
        out[uid] = [action]
    return out


class PolicyNet(torch.nn.Module):
    def __init__(self, cfg=None) -> None:
        super().__init__()
        c = 8
        self.conv = torch.nn.Sequential(torch.nn.Conv2d(3, c, 3, padding=1), torch.nn.ReLU())
        self.unit = torch.nn.Linear(c + 2, 32)
        self.pi = torch.nn.Linear(32, N_ACTIONS)
        self.v = torch.nn.Linear(32, 1)
        self.gv = torch.nn.Linear(c + 2, 1)

    def forward(self, map_planes, global_features, unit_batch, unit_pos, unit_features, action_mask):
        h = self.conv(map_planes)  # [B, c, W, H] indexed [x, y]
        at_unit = h[unit_batch, :, unit_pos[:, 0], unit_pos[:, 1]]
        z = torch.relu(self.unit(torch.cat([at_unit, unit_features], dim=1)))
        logits = self.pi(z).masked_fill(~action_mask, -1e9)
        pooled = torch.cat([h.mean(dim=(2, 3)), global_features], dim=1)
        return logits, self.v(z).squeeze(1), self.gv(pooled).squeeze(1)


def install(monkeypatch) -> None:
    """Make `magma_policy.{features,actions,network}` resolve to this stub for one test."""
    package = types.ModuleType("magma_policy")
    package.__path__ = []
    features = types.ModuleType("magma_policy.features")
    features.encode = encode
    features.Features = Features
    actions = types.ModuleType("magma_policy.actions")
    actions.decode = decode
    actions.N_ACTIONS = N_ACTIONS
    network = types.ModuleType("magma_policy.network")
    network.PolicyNet = PolicyNet
    package.features, package.actions, package.network = features, actions, network
    for name, module in (("magma_policy", package), ("magma_policy.features", features),
                         ("magma_policy.actions", actions), ("magma_policy.network", network)):
        monkeypatch.setitem(sys.modules, name, module)
