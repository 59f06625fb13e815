"""Trajectory separation, per-trajectory GAE and the PPO loss terms.

A *trajectory* is what one advantage estimate follows through time. Each robot (unit) of a learning player
belongs at step t to one trajectory key k of its (env, player) observation b:

    separated: k = the unit's slot (one trajectory per unit, from birth to death)
    grouped:   k = its group (nearest own factory, or one of N random groups fixed at birth)
    global:    k = 0 (one trajectory per player: the single-brain baseline)

With members(t, b, k) the units of key k at step t, the per-unit reward mixes the unit's own reward with the
team's (w = `reward_own_weight`):

    r_i        = w * r_own_i + (1 - w) * r_team            (separate reward)
    r_i        = r_team                                    (global reward)
    r_team     = team terms + mean over the player's units of r_own_i
    R[t,b,k]   = mean_{i in members} r_i                   (group reward; the unit's own for one member)

The key's value, log-probability and entropy are read from the network's per-unit outputs:

    V[t,b,k]      = mean_{i in members} v_i                (separate value)   or  V_global[t,b]  (global value)
    logp[t,b,k]   = sum_{i in members} log pi(a_i)         (separate logprob) or  sum over all the player's units
    H[t,b,k]      = mean_{i in members} H_i                (separate entropy) or  sum over all the player's units

A key is active at (t, b) when it has members; it is done at t when the episode ends at t or the key has no
members at t + 1 (a unit died: no bootstrap across a dead unit). Slots freed by dead units are reused only a
step later, so a new unit in a reused slot starts a fresh trajectory. GAE runs along each key's own
trajectory, bootstrapping the last rollout step from the value of the observation after it:

    delta_t = R_t + gamma * V_{t+1} * (1 - done_t) - V_t
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    G_t     = A_t + V_t

Losses are means over ACTIVE (key, step) entries only (advantage normalisation too):

    ratio   = exp(logp_new - logp_old)
    L_pi    = mean(max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps)))
    L_v     = 0.5 * mean(max((V_new - G)^2, (V_old + clip(V_new - V_old, -eps, eps) - G)^2))
    L_H     = mean(H)
    L       = L_pi - c_H * L_H + c_v * L_v
"""
from __future__ import annotations

import collections
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

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


# -- dense trajectory tensors ------------------------------------------------------------------------------


def trajectory_tensors(unit_obs: np.ndarray, unit_key: np.ndarray, unit_reward: np.ndarray,
                       unit_value: np.ndarray, global_value: np.ndarray, episode_end: np.ndarray,
                       next_keys: List[np.ndarray], next_unit_value: List[np.ndarray],
                       next_global_value: np.ndarray, n_keys: int, value_separate: bool
                       ) -> Dict[str, np.ndarray]:
    """Scatter per-unit rollout data into dense per-key tensors.

    unit_obs [M]           flat observation index t * B + b of each unit entry
    unit_key [M]           trajectory key of the unit (0..n_keys-1)
    unit_reward [M]        r_i of the unit for its step
    unit_value [M]         v_i (old) of the unit
    global_value [T, B]    the global value head (old)
    episode_end [T, B]     the episode ended after step t
    next_keys[b]           keys present in the observation after the rollout, per b
    next_unit_value[b]     their unit values (same order)
    next_global_value [B]  global value of the observation after the rollout
    Returns active/reward/value/done [T, B, K] and last_value/last_active [B, K].
    """
    T, B = global_value.shape
    K = n_keys
    flat = unit_obs * K + unit_key  # index into [T * B * K]
    count = np.bincount(flat, minlength=T * B * K).reshape(T, B, K)
    active = count > 0
    safe = np.maximum(count, 1)
    reward = np.bincount(flat, weights=unit_reward, minlength=T * B * K).reshape(T, B, K) / safe
    if value_separate:
        value = np.bincount(flat, weights=unit_value, minlength=T * B * K).reshape(T, B, K) / safe
    else:
        value = np.broadcast_to(global_value[:, :, None], (T, B, K)).copy()
    value = np.where(active, value, 0.0)
    last_active = np.zeros((B, K), dtype=bool)
    last_value = np.zeros((B, K), dtype=np.float64)
    for b in range(B):
        keys = np.asarray(next_keys[b], dtype=np.int64)
        if len(keys) == 0:
            continue
        c = np.bincount(keys, minlength=K)
        last_active[b] = c > 0
        if value_separate:
            last_value[b] = np.bincount(keys, weights=next_unit_value[b], minlength=K) / np.maximum(c, 1)
        else:
            last_value[b] = next_global_value[b]
    last_value = np.where(last_active, last_value, 0.0)
    # Done: the episode ended, or the key has no members at the next step.
    next_active = np.concatenate([active[1:], last_active[None]], axis=0)
    done = episode_end[:, :, None] | ~next_active
    return dict(active=active, reward=reward.astype(np.float32), value=value.astype(np.float32),
                done=done, last_value=last_value.astype(np.float32), last_active=last_active)


def compute_gae(reward: np.ndarray, value: np.ndarray, done: np.ndarray, active: np.ndarray,
                last_value: np.ndarray, gamma: float, lam: float) -> Tuple[np.ndarray, np.ndarray]:
    """GAE along each key's own trajectory. All inputs [T, B, K] except last_value [B, K].

    Inactive entries get advantage 0 and break the recursion. Returns (advantages, returns) [T, B, K].
    """
    T = reward.shape[0]
    adv = np.zeros_like(reward, dtype=np.float32)
    last_gae = np.zeros(reward.shape[1:], dtype=np.float32)
    for t in reversed(range(T)):
        next_value = last_value if t == T - 1 else value[t + 1]
        not_done = 1.0 - done[t].astype(np.float32)
        delta = reward[t] + gamma * next_value * not_done - value[t]
        last_gae = delta + gamma * lam * not_done * last_gae
        last_gae = np.where(active[t], last_gae, 0.0).astype(np.float32)
        adv[t] = last_gae
    returns = np.where(active, adv + value, 0.0).astype(np.float32)
    return adv, returns


# -- losses -------------------------------------------------------------------------------------------------


def aggregate_units(unit_entry: torch.Tensor, unit_obs: torch.Tensor, logprob: torch.Tensor,
                    entropy: torch.Tensor, unit_value: torch.Tensor, global_value: torch.Tensor,
                    entry_obs: torch.Tensor, n_entries: int, switches: SeparationSwitches
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-entry (logp, value, entropy) from per-unit network outputs.

    unit_entry [M]: the entry (active key at one observation) each unit belongs to; unit_obs [M]: the
    observation (0..n_obs-1) of each unit; entry_obs [E]: the observation of each entry; global_value [n_obs].
    """
    count = logprob.new_zeros(n_entries).index_add_(0, unit_entry, torch.ones_like(logprob))
    count = count.clamp(min=1.0)
    n_obs = global_value.shape[0]
    if switches.logprob:
        logp = logprob.new_zeros(n_entries).index_add_(0, unit_entry, logprob)
    else:
        per_obs = logprob.new_zeros(n_obs).index_add_(0, unit_obs, logprob)
        logp = per_obs[entry_obs]
    if switches.value:
        value = unit_value.new_zeros(n_entries).index_add_(0, unit_entry, unit_value) / count
    else:
        value = global_value[entry_obs]
    if switches.entropy:
        ent = entropy.new_zeros(n_entries).index_add_(0, unit_entry, entropy) / count
    else:
        ent = entropy.new_zeros(n_obs).index_add_(0, unit_obs, entropy)[entry_obs]
    return logp, value, ent


@dataclass
class LossTerms:
    loss: torch.Tensor
    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    clipfrac: torch.Tensor
    anchor_kl: Optional[torch.Tensor] = None  # KL(anchor || policy) per unit, when the loss has an anchor term


def ppo_loss(new_logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, new_value: torch.Tensor,
             old_value: torch.Tensor, returns: torch.Tensor, entropy: torch.Tensor, clip_coef: float,
             vf_coef: float, ent_coef: float, norm_adv: bool = True, clip_vloss: bool = True,
             weight: Optional[torch.Tensor] = None) -> LossTerms:
    """PPO terms over a set of active entries (every input [E]; only active entries are passed in).

    `weight` (optional, [E], summing to E) reweights entries; by default each entry counts once.
    """
    if new_logp.numel() == 0:
        raise ValueError("no active entries in the minibatch")
    w = torch.ones_like(advantages) if weight is None else weight

    def mean(x: torch.Tensor) -> torch.Tensor:
        return (w * x).sum() / w.sum()

    logratio = new_logp - old_logp
    ratio = logratio.exp()
    with torch.no_grad():
        approx_kl = mean((ratio - 1) - logratio)
        clipfrac = mean(((ratio - 1.0).abs() > clip_coef).float())
    if norm_adv and advantages.numel() > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    policy_loss = mean(torch.max(pg_loss1, pg_loss2))
    if clip_vloss:
        v_unclipped = (new_value - returns) ** 2
        v_clipped = old_value + torch.clamp(new_value - old_value, -clip_coef, clip_coef)
        value_loss = 0.5 * mean(torch.max(v_unclipped, (v_clipped - returns) ** 2))
    else:
        value_loss = 0.5 * mean((new_value - returns) ** 2)
    entropy_mean = mean(entropy)
    loss = policy_loss - ent_coef * entropy_mean + vf_coef * value_loss
    return LossTerms(loss, policy_loss, value_loss, entropy_mean, approx_kl, clipfrac)
