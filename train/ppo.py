"""PPO with trajectory separation: rollout storage, GAE per trajectory, the loss terms and the update loop.

Read top to bottom: (1) per-trajectory GAE on dense [T, B, K] tensors, (2) the rollout storage that turns one
rollout into a flat `Batch`, (3) the loss terms, (4) the update loop (epochs of minibatches, metrics).
What a trajectory key is (a unit's slot, its group, or the whole player) and how rewards are mixed:
train/separation.py. Acting in the envs: train/rollout.py. The network and its forward: train/model.py.

Index spaces (T = num_steps, B = learning seats per step, K = keys per seat, A = actions):
    observation  t * B + b              one seat's view at one step; one map evaluation each
    unit         m = 0..M-1             one robot at one observation (M robots over the rollout)
    entry        e = 0..E-1             an ACTIVE (observation, key) pair: a key with members there
    dense        (t, b, k)              [T, B, K] arrays for GAE; an entry is one active cell of them

Per key, from its members' network outputs (units i of key k at observation t * B + b):
    R[t,b,k]     = mean_i r_i                               (r_i: train/separation.py's mixed reward)
    V[t,b,k]     = mean_i v_i          (separate value)    or  V_global[t,b]                (global value)
    logp[t,b,k]  = sum_i log pi(a_i)   (separate logprob)  or  sum over all the player's units
    H[t,b,k]     = mean_i H_i          (separate entropy)  or  sum over all the player's units

A key is done at t when the episode ends at t or the key has no members at t + 1 (a unit died: no bootstrap
across a dead unit). GAE runs along each key's own trajectory, bootstrapping the last rollout step from the
value of the observation after it:
    delta_t = R_t + gamma * V_{t+1} * (1 - done_t) - V_t
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    G_t     = A_t + V_t

Losses are means over active entries only (advantage normalisation too):
    ratio   = exp(logp_new - logp_old)
    L_pi    = mean(max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps)))
    L_v     = 0.5 * mean(max((V_new - G)^2, (V_old + clip(V_new - V_old, -eps, eps) - G)^2))  (clip_vloss)
    L_H     = mean(H)
    L       = L_pi - c_H * L_H + c_v * L_v  [+ anchor_coef * mean over units of KL(policy || anchor)]
                                            [+ teacher_coef * cross-entropy on the teacher's labels]

Anchor (config `anchor_coef` > 0): a frozen copy of the start policy (train.model.anchor_network). PPO's clip
bounds each update's step, not the sum of many small ones; the anchor bounds how far the sum can drift from
play that is known to keep factories alive. KL(policy || anchor) lets the policy grow sharper than the anchor
(all its mass on the anchor's likeliest action costs only -log p_anchor of that action) while making actions
the anchor thinks unlikely expensive; KL(anchor || policy) would instead keep the sampled play as noisy as the
anchor. `anchor_temperature` below 1 sharpens the anchor toward its likeliest action.

Teacher (config `teacher_coef` > 0, train/teacher.py): each minibatch also replays `teacher_batch` player views
recorded from the heuristic controller's games, with the controller's choice per robot as the label. Where the
anchor keeps the policy near where it started, the teacher keeps it near the play the start policy imitated, on
states of the teacher's own games that PPO's rollouts may stop reaching.

Phases (a policy started from other weights, config `value_warmup_updates` and `actor_lr_ramp_updates`): the
first updates fit only the value-only parameters (every parameter the policy's outputs depend on is frozen, so
the policy plays exactly as it started while its values learn its returns); then the policy's parameters get a
learning rate that rises linearly from 0 (`actor_lr_scale`), so the first policy steps follow a value that has
caught up instead of a fresh value head's noise.

The network stays in eval mode in rollouts, updates and export, so the function that chose an action is the
one whose log-probability the update compares against (the PPO ratio starts at exactly 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch

from train.config import TrainConfig
from train.model import batch_inputs, channels_last, net_forward
from train.separation import SeparationSwitches

if TYPE_CHECKING:
    from train.imitation import Sample
    from train.workers import SeatObs


# -- 1. GAE per trajectory (numpy, dense [T, B, K]) -------------------------------------------------------------


def trajectory_tensors(unit_obs: np.ndarray, unit_key: np.ndarray, unit_reward: np.ndarray,
                       unit_value: np.ndarray, global_value: np.ndarray, episode_end: np.ndarray,
                       next_keys: List[np.ndarray], next_unit_value: List[np.ndarray],
                       next_global_value: np.ndarray, n_keys: int, value_separate: bool
                       ) -> Dict[str, np.ndarray]:
    """Scatter per-unit rollout data into dense per-key tensors.

    unit_obs [M]           flat observation index t * B + b of each unit
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


def aggregate_units(unit_entry: torch.Tensor, unit_obs: torch.Tensor, logprob: torch.Tensor,
                    entropy: torch.Tensor, unit_value: torch.Tensor, global_value: torch.Tensor,
                    entry_obs: torch.Tensor, n_entries: int, switches: SeparationSwitches
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-entry (logp, value, entropy) [E] from per-unit network outputs [M] (the module docstring's table).

    unit_entry [M]: the entry each unit belongs to; unit_obs [M]: the observation (0..n_obs-1) of each unit;
    entry_obs [E]: the observation of each entry; global_value [n_obs].
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


# -- 2. Rollout storage -> Batch -----------------------------------------------------------------------------------


@dataclass
class Batch:
    """A finished rollout, ready for the update (torch tensors; C/H/W/G/U = feature sizes).

    Per observation [T*B]: map_planes [T*B, C, H, W] float16 in channels_last memory (cast per minibatch),
    global_features [T*B, G].
    Per unit [M]: unit_obs (its observation), unit_pos [M, 2], unit_features [M, U], action_mask [M, A],
    actions, unit_entry (its entry).
    Per entry [E]: entry_obs (its observation), advantages, returns, old_logp, old_value.
    """

    map_planes: torch.Tensor
    global_features: torch.Tensor
    unit_obs: torch.Tensor
    unit_pos: torch.Tensor
    unit_features: torch.Tensor
    action_mask: torch.Tensor
    actions: torch.Tensor
    unit_entry: torch.Tensor
    entry_obs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    old_logp: torch.Tensor
    old_value: torch.Tensor

    @property
    def n_obs(self) -> int:
        return int(self.map_planes.shape[0])


class RolloutStorage:
    """Per-step records of one rollout; `finish` runs GAE per trajectory and returns a `Batch`.

    Per step t: B seat observations (step-major, so observation t * B + b), and per observation the arrays of
    its units: actions, logprob, unit_value, rewards [N_b]; global_value and episode_end are [T, B].
    """

    def __init__(self, num_steps: int, obs_per_step: int, n_keys: int) -> None:
        self.T, self.B, self.K = num_steps, obs_per_step, n_keys
        self.obs: List[SeatObs] = []  # T * B, step-major
        self.actions: List[np.ndarray] = []
        self.logprob: List[np.ndarray] = []
        self.unit_value: List[np.ndarray] = []
        self.global_value = np.zeros((num_steps, obs_per_step), dtype=np.float32)
        self.rewards: List[np.ndarray] = []  # T * B, per seat: r_i of its units
        self.episode_end = np.zeros((num_steps, obs_per_step), dtype=bool)
        self.t = 0

    def add(self, obs: Sequence[SeatObs], step_out: Dict[str, np.ndarray], rewards: Sequence[np.ndarray],
            ended: Sequence[bool]) -> None:
        """One step: the observations acted on, the policy's outputs, the rewards and episode ends that
        followed (per seat)."""
        if self.t >= self.T:
            raise RuntimeError("rollout storage is full")
        if len(obs) != self.B:
            raise ValueError("expected %d observations per step, got %d" % (self.B, len(obs)))
        self.obs.extend(obs)
        self.actions.append(step_out["actions"])
        self.logprob.append(step_out["logprob"])
        self.unit_value.append(step_out["unit_value"])
        self.global_value[self.t] = step_out["global_value"]
        self.rewards.extend(np.asarray(r, dtype=np.float32) for r in rewards)
        self.episode_end[self.t] = np.asarray(ended, dtype=bool)
        self.t += 1

    def finish(self, next_obs: Sequence[SeatObs], next_out: Dict[str, np.ndarray], gamma: float, lam: float,
               switches: SeparationSwitches, device: torch.device) -> Tuple[Batch, Dict[str, float]]:
        """GAE per trajectory key, bootstrapped from `next_obs` (the observations after the last step)."""
        if self.t != self.T:
            raise RuntimeError("rollout has %d of %d steps" % (self.t, self.T))
        counts = np.array([len(o.keys) for o in self.obs], dtype=np.int64)
        unit_obs = np.repeat(np.arange(len(self.obs)), counts)
        keys = np.concatenate([o.keys for o in self.obs]).astype(np.int64)
        rewards = np.concatenate(self.rewards)
        unit_value = np.concatenate(self.unit_value).astype(np.float64)
        logprob = np.concatenate(self.logprob)
        if len(rewards) != len(keys):
            raise RuntimeError("%d rewards for %d unit entries" % (len(rewards), len(keys)))
        nb = np.cumsum([0] + [len(o.keys) for o in next_obs])
        next_keys = [o.keys for o in next_obs]
        next_uv = [next_out["unit_value"][nb[i]:nb[i + 1]] for i in range(len(next_obs))]
        tt = trajectory_tensors(unit_obs, keys, rewards, unit_value, self.global_value, self.episode_end,
                                next_keys, next_uv, next_out["global_value"], self.K, switches.value)
        adv, ret = compute_gae(tt["reward"], tt["value"], tt["done"], tt["active"], tt["last_value"], gamma, lam)
        # Dense (t, b, k) -> entry: the active cells, numbered in (t, b, k) order.
        active_flat = tt["active"].reshape(-1)
        entry_index = np.full(active_flat.shape, -1, dtype=np.int64)
        entry_index[active_flat] = np.arange(int(active_flat.sum()))
        unit_entry = entry_index[unit_obs * self.K + keys]
        entry_obs = np.nonzero(active_flat)[0] // self.K
        inputs = batch_inputs(self.obs)
        as_t = lambda x: torch.as_tensor(x, device=device)  # noqa: E731
        unit_obs_t, unit_entry_t, entry_obs_t = as_t(unit_obs), as_t(unit_entry), as_t(entry_obs)
        old_logp, old_value, _ = aggregate_units(
            unit_entry_t.cpu(), unit_obs_t.cpu(), torch.as_tensor(logprob), torch.zeros(len(logprob)),
            torch.as_tensor(unit_value, dtype=torch.float32), torch.as_tensor(self.global_value.reshape(-1)),
            entry_obs_t.cpu(), len(entry_obs), switches)
        batch = Batch(
            # channels_last, as the network's weights (train.model.training_network): minibatches indexed from it
            # keep that layout, and the convolutions skip a reorder of every minibatch
            map_planes=channels_last(as_t(inputs["map_planes"])),
            global_features=as_t(inputs["global_features"]),
            unit_obs=unit_obs_t, unit_pos=as_t(inputs["unit_pos"]), unit_features=as_t(inputs["unit_features"]),
            action_mask=as_t(inputs["action_mask"]), actions=as_t(np.concatenate(self.actions).astype(np.int64)),
            unit_entry=unit_entry_t, entry_obs=entry_obs_t,
            advantages=as_t(adv.reshape(-1)[active_flat]), returns=as_t(ret.reshape(-1)[active_flat]),
            old_logp=old_logp.to(device), old_value=old_value.to(device),
        )
        figures = {
            "rollout/active_entries": float(len(entry_obs)),
            "rollout/unit_entries": float(len(keys)),
            "rollout/mean_reward": float(rewards.mean()) if len(rewards) else 0.0,
            "rollout/mean_advantage": float(batch.advantages.mean()) if len(entry_obs) else 0.0,
        }
        return batch, figures


# -- 3. Loss terms -------------------------------------------------------------------------------------------------


@dataclass
class LossTerms:
    loss: torch.Tensor
    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    clipfrac: torch.Tensor
    anchor_kl: Optional[torch.Tensor] = None  # mean KL(policy || anchor) per unit, when the loss has that term
    teacher_ce: Optional[torch.Tensor] = None  # mean cross-entropy on the teacher's labels, when the loss has it


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


def anchor_kl(anchor_logits: torch.Tensor, logp_all: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
    """KL(policy || anchor) of each unit [N] over its legal actions (masked actions carry no probability)."""
    anchor_logp = torch.log_softmax(anchor_logits, dim=1)
    gap = (logp_all - anchor_logp).masked_fill(~action_mask, 0.0)
    return (logp_all.exp() * gap).sum(dim=1)


def minibatch_loss(net: torch.nn.Module, batch: Batch, mb_obs: torch.Tensor, cfg: TrainConfig,
                   switches: SeparationSwitches, anchor: Optional[torch.nn.Module] = None) -> LossTerms:
    """PPO terms for the observations `mb_obs` (indices into the batch's observations), plus the anchor's KL
    term when an anchor network is given."""
    device = batch.map_planes.device
    # The minibatch renumbers its observations 0..len(mb_obs)-1 and its entries 0..n_entries-1 (-1: not in it).
    obs_to_mb = torch.full((batch.n_obs,), -1, dtype=torch.long, device=device)
    obs_to_mb[mb_obs] = torch.arange(len(mb_obs), device=device)
    unit_sel = obs_to_mb[batch.unit_obs] >= 0  # [M] units of these observations
    entry_sel = obs_to_mb[batch.entry_obs] >= 0  # [E] their active entries
    n_entries = int(entry_sel.sum())
    entry_to_mb = torch.full((len(batch.entry_obs),), -1, dtype=torch.long, device=device)
    entry_to_mb[entry_sel] = torch.arange(n_entries, device=device)

    unit_batch = obs_to_mb[batch.unit_obs[unit_sel]]
    inputs = (batch.map_planes[mb_obs].float(), batch.global_features[mb_obs], unit_batch, batch.unit_pos[unit_sel],
              batch.unit_features[unit_sel], batch.action_mask[unit_sel])
    logits, unit_value, global_value = net_forward(net, *inputs, cfg.policy_temperature)
    logp_all = torch.log_softmax(logits, dim=1)
    logprob = logp_all.gather(1, batch.actions[unit_sel][:, None]).squeeze(1)
    # Entropy over legal actions only (masked logits carry ~0 probability but -1e9 log-prob).
    probs = logp_all.exp()
    entropy = -(probs * logp_all.masked_fill(~batch.action_mask[unit_sel], 0.0)).sum(dim=1)
    new_logp, new_value, new_ent = aggregate_units(
        entry_to_mb[batch.unit_entry[unit_sel]], unit_batch, logprob, entropy, unit_value, global_value,
        obs_to_mb[batch.entry_obs[entry_sel]], n_entries, switches)
    terms = ppo_loss(new_logp, batch.old_logp[entry_sel], batch.advantages[entry_sel], new_value,
                     batch.old_value[entry_sel], batch.returns[entry_sel], new_ent, cfg.clip_coef, cfg.vf_coef,
                     cfg.ent_coef, cfg.norm_adv, cfg.clip_vloss)
    if anchor is not None and len(logits):
        with torch.no_grad():
            anchor_logits = net_forward(anchor, *inputs, cfg.policy_temperature * cfg.anchor_temperature)[0]
        terms.anchor_kl = anchor_kl(anchor_logits, logp_all, batch.action_mask[unit_sel]).mean()
        terms.loss = terms.loss + cfg.anchor_coef * terms.anchor_kl
    return terms


# -- 4. Update loop ------------------------------------------------------------------------------------------------


class NonFiniteLoss(RuntimeError):
    pass


ACTOR_GROUP = "actor"  # the optimizer's parameter group of the policy's parameters, when it has one


def actor_lr_scale(cfg: TrainConfig, update: int) -> float:
    """The policy's share of the learning rate at `update` (from 1): 0 during the value warm-up, then rising
    linearly to 1 over `actor_lr_ramp_updates` updates."""
    after = update - cfg.value_warmup_updates
    if after <= 0:
        return 0.0
    if cfg.actor_lr_ramp_updates <= 0:
        return 1.0
    return min(1.0, after / cfg.actor_lr_ramp_updates)


def phase(cfg: TrainConfig, update: int) -> str:
    """Which phase `update` belongs to: value (the policy frozen), ramp (its learning rate rising) or full."""
    if update <= cfg.value_warmup_updates:
        return "value"
    return "full" if actor_lr_scale(cfg, update) >= 1.0 else "ramp"


def set_lr(optimizer: torch.optim.Optimizer, cfg: TrainConfig, update: int, num_updates: int) -> float:
    """Linear annealing from learning_rate to 0 over the run (update counts from 1); the actor group, when the
    optimizer has one (make_optimizer), gets that times actor_lr_scale. Returns the annealed rate."""
    frac = 1.0 - (update - 1.0) / num_updates if cfg.anneal_lr else 1.0
    lr = frac * cfg.learning_rate
    for group in optimizer.param_groups:
        group["lr"] = lr * (actor_lr_scale(cfg, update) if group.get("name") == ACTOR_GROUP else 1.0)
    return lr


def actor_parameters(net: torch.nn.Module, example: SeatObs) -> Set[int]:
    """ids of the parameters the policy's logits depend on, found by a gradient through one robot placed on
    `example`'s map (any view: only the shapes and the map's values are used)."""
    planes = torch.as_tensor(np.asarray(example.map_planes, dtype=np.float32))[None]
    device = next(net.parameters()).device
    n_actions = example.action_mask.shape[1]
    inputs = (channels_last(planes.to(device)), torch.as_tensor(example.global_features[None], device=device),
              torch.zeros(1, dtype=torch.long, device=device), torch.zeros((1, 2), dtype=torch.long, device=device),
              torch.zeros((1, example.unit_features.shape[1]), device=device),
              torch.ones((1, n_actions), dtype=torch.bool, device=device))
    logits = net_forward(net, *inputs)[0]
    params = [p for p in net.parameters() if p.requires_grad]
    grads = torch.autograd.grad(logits.sum(), params, allow_unused=True)
    return {id(p) for p, g in zip(params, grads) if g is not None}


def make_optimizer(net: torch.nn.Module, cfg: TrainConfig, example: SeatObs) -> torch.optim.Optimizer:
    """Adam over the network; with an actor learning-rate ramp, in two groups (the policy's parameters, named
    ACTOR_GROUP, and the value-only ones) so that set_lr can ramp the first alone."""
    if cfg.actor_lr_ramp_updates <= 0:
        return torch.optim.Adam(net.parameters(), lr=cfg.learning_rate, eps=1e-5)
    actor = actor_parameters(net, example)
    groups = [{"params": [p for p in net.parameters() if id(p) in actor], "name": ACTOR_GROUP},
              {"params": [p for p in net.parameters() if id(p) not in actor], "name": "value"}]
    return torch.optim.Adam([g for g in groups if g["params"]], lr=cfg.learning_rate, eps=1e-5)


def teacher_cross_entropy(net: torch.nn.Module, samples: Sequence[Sample], cfg: TrainConfig) -> torch.Tensor:
    """Mean cross-entropy, over the robots of `samples`, of the policy (at its temperature) on the labels."""
    device = next(net.parameters()).device
    t = {k: torch.as_tensor(v, device=device) for k, v in batch_inputs(samples).items()}
    logits = net_forward(net, channels_last(t["map_planes"], torch.float32), t["global_features"], t["unit_batch"],
                         t["unit_pos"], t["unit_features"], t["action_mask"], cfg.policy_temperature)[0]
    labels = torch.as_tensor(np.concatenate([s.labels for s in samples]), device=device)
    return torch.nn.functional.cross_entropy(logits, labels)


def ppo_update(net: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, cfg: TrainConfig,
               switches: SeparationSwitches, generator: torch.Generator, update: int,
               anchor: Optional[torch.nn.Module] = None, teacher: Optional[Sequence[Sample]] = None
               ) -> Dict[str, float]:
    """`update_epochs` passes of `num_minibatches` minibatches drawn over observations (every unit of an
    observation is in its map's minibatch); returns the `losses/...` metrics (`losses/anchor_kl` with an
    anchor network, `losses/teacher_ce` with teacher samples and teacher_coef > 0)."""
    net.eval()
    n_obs = batch.n_obs
    mb_size = int(math.ceil(n_obs / cfg.num_minibatches))
    has_entry = torch.bincount(batch.entry_obs, minlength=n_obs) > 0  # [T*B] some unit acted there
    sums: Dict[str, float] = {}
    count = 0
    warmup = update <= cfg.value_warmup_updates
    policy_params = policy_parameters(net, batch, cfg, switches, has_entry) if warmup else set()
    for epoch in range(cfg.update_epochs):
        perm = torch.randperm(n_obs, generator=generator).to(batch.map_planes.device)
        kls = []
        for start in range(0, n_obs, mb_size):
            mb_obs = perm[start:start + mb_size]
            if not bool(has_entry[mb_obs].any()):
                continue  # no unit acted in these observations
            terms = minibatch_loss(net, batch, mb_obs, cfg, switches, anchor)
            if teacher and cfg.teacher_coef > 0 and not warmup:
                drawn = torch.randint(len(teacher), (cfg.teacher_batch,), generator=generator).tolist()
                terms.teacher_ce = teacher_cross_entropy(net, [teacher[i] for i in drawn], cfg)
                terms.loss = terms.loss + cfg.teacher_coef * terms.teacher_ce
            for name in ("policy_loss", "value_loss", "entropy", "loss"):
                value = getattr(terms, name)
                if not torch.isfinite(value):
                    raise NonFiniteLoss("update %d, epoch %d: %s is %s" % (update, epoch, name, value.item()))
            optimizer.zero_grad()
            if warmup:
                # Value warm-up: a policy started from other weights keeps its behaviour exactly while the
                # value-only parameters learn its returns, so its first policy updates follow sensible advantages.
                (cfg.vf_coef * terms.value_loss).backward()
                for p in net.parameters():
                    if id(p) in policy_params:
                        p.grad = None
            else:
                terms.loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
            if not torch.isfinite(grad_norm):
                raise NonFiniteLoss("update %d, epoch %d: gradient norm is %s" % (update, epoch, grad_norm.item()))
            optimizer.step()
            for name in ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac", "loss", "anchor_kl",
                         "teacher_ce"):
                value = getattr(terms, name)
                if value is not None:
                    sums[name] = sums.get(name, 0.0) + float(value.detach())
            sums["grad_norm"] = sums.get("grad_norm", 0.0) + float(grad_norm)
            kls.append(float(terms.approx_kl))
            count += 1
        if cfg.target_kl is not None and kls and float(np.mean(kls)) > cfg.target_kl:
            break
    metrics = {"losses/" + k: v / max(count, 1) for k, v in sums.items()}
    metrics["losses/minibatches"] = float(count)
    metrics["losses/explained_variance"] = explained_variance(batch)
    return metrics


def policy_parameters(net: torch.nn.Module, batch: Batch, cfg: TrainConfig, switches: SeparationSwitches,
                      has_entry: torch.Tensor) -> Set[int]:
    """ids of the parameters the policy's log-probabilities depend on (reached by their gradient)."""
    obs = torch.nonzero(has_entry).flatten()[:8]
    net.zero_grad()
    terms = minibatch_loss(net, batch, obs, cfg, switches)
    (terms.policy_loss + terms.entropy).backward()
    found = {id(p) for p in net.parameters() if p.grad is not None}
    net.zero_grad()
    return found


def explained_variance(batch: Batch) -> float:
    """1 - Var(G - V_old) / Var(G) over the rollout's active entries (nan when the returns do not vary)."""
    y = batch.returns.detach().cpu().numpy()
    p = batch.old_value.detach().cpu().numpy()
    var = np.var(y)
    return float("nan") if var == 0 else float(1 - np.var(y - p) / var)
