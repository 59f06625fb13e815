"""Rollout collection and storage: one batched forward pass per env step, then flat tensors for the update.

Shapes (T = num_steps, B = observations per step = envs x learning seats, M = unit entries over the rollout,
E = active (trajectory key, step) entries, K = keys per observation, C/H/W/G/U/A = feature sizes):
    map_planes      [T*B, C, H, W] float16 (cast per minibatch)   global_features [T*B, G]
    unit_obs        [M]  index of the unit's observation (t * B + b)
    unit_pos        [M, 2]           unit_features [M, U]       action_mask [M, A]
    actions, logprobs, unit_values, rewards, keys   [M]
    global_values   [T*B]            episode_end [T, B]
    entry_obs       [E]  observation of each entry;   unit_entry [M]: entry of each unit
    advantages, returns, old_logp, old_value        [E]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from train.separation import SeparationSwitches, aggregate_units, compute_gae, trajectory_tensors
from train.workers import EnvPool, SeatObs

MASKED_LOGIT = -1e9


def stack_planes(planes: Sequence[np.ndarray]) -> np.ndarray:
    """Stack [C, H, W] maps; smaller maps (a Kaggle map among NeurIPS ones) are zero-padded at the far edges."""
    h = max(p.shape[1] for p in planes)
    w = max(p.shape[2] for p in planes)
    out = np.zeros((len(planes), planes[0].shape[0], h, w), dtype=planes[0].dtype)
    for i, p in enumerate(planes):
        out[i, :, :p.shape[1], :p.shape[2]] = p
    return out


def batch_obs(obs: Sequence[SeatObs]) -> Dict[str, np.ndarray]:
    """Network inputs for a list of seat observations (unit arrays concatenated, `unit_batch` = owner)."""
    counts = [len(o.keys) for o in obs]
    return dict(
        map_planes=stack_planes([o.map_planes for o in obs]),
        global_features=np.stack([o.global_features for o in obs]).astype(np.float32),
        unit_batch=np.repeat(np.arange(len(obs)), counts).astype(np.int64),
        unit_pos=np.concatenate([o.unit_pos.reshape(-1, 2) for o in obs]).astype(np.int64),
        unit_features=np.concatenate([o.unit_features for o in obs]).astype(np.float32),
        action_mask=np.concatenate([o.action_mask for o in obs]).astype(bool),
    )


def forward(net: torch.nn.Module, inputs: Dict[str, np.ndarray], device: torch.device, temperature: float = 1.0
            ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(masked logits [N, A], unit values [N], global values [B]) for numpy inputs."""
    t = {k: torch.as_tensor(v, device=device) for k, v in inputs.items()}
    return net_forward(net, t["map_planes"].float(), t["global_features"], t["unit_batch"], t["unit_pos"],
                       t["unit_features"], t["action_mask"], temperature)


def net_forward(net: torch.nn.Module, map_planes: torch.Tensor, global_features: torch.Tensor,
                unit_batch: torch.Tensor, unit_pos: torch.Tensor, unit_features: torch.Tensor,
                action_mask: torch.Tensor, temperature: float = 1.0
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The policy's logits are the network's divided by `temperature` (config `policy_temperature`): below 1 the
    trained distribution is sharper than the network's, closer to the most likely action the agent can play."""
    logits, unit_value, global_value = net(map_planes, global_features, unit_batch, unit_pos, unit_features,
                                           action_mask)
    if temperature != 1.0:
        logits = logits / temperature
    # Masked actions can never be sampled, whatever the network does with the mask.
    logits = logits.masked_fill(~action_mask, MASKED_LOGIT)
    return logits, unit_value.reshape(-1), global_value.reshape(-1)


@torch.no_grad()
def act(net: torch.nn.Module, obs: Sequence[SeatObs], device: torch.device, greedy: bool,
        generator: Optional[torch.Generator] = None, temperature: float = 1.0) -> Dict[str, np.ndarray]:
    """Chosen actions, their log-probs and the values for one step of all seats (one forward pass)."""
    inputs = batch_obs(obs)
    logits, unit_value, global_value = forward(net, inputs, device, temperature)
    if logits.shape[0] == 0:
        actions = torch.zeros(0, dtype=torch.long)
        logprob = torch.zeros(0)
    else:
        logits = logits.float().cpu()
        if greedy:
            actions = logits.argmax(dim=1)
        else:
            probs = torch.softmax(logits, dim=1)
            actions = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        logprob = torch.log_softmax(logits, dim=1).gather(1, actions[:, None]).squeeze(1)
    return dict(inputs=inputs, actions=actions.numpy(), logprob=logprob.numpy(),
                unit_value=unit_value.float().cpu().numpy(), global_value=global_value.float().cpu().numpy())


def split_actions(actions: np.ndarray, obs: Sequence[SeatObs], seats_per_env: Sequence[int]
                  ) -> List[List[np.ndarray]]:
    """Flat chosen actions -> per env, per seat arrays."""
    bounds = np.cumsum([0] + [len(o.keys) for o in obs])
    per_seat = [actions[bounds[i]:bounds[i + 1]] for i in range(len(obs))]
    out, i = [], 0
    for n in seats_per_env:
        out.append(per_seat[i:i + n])
        i += n
    return out


@dataclass
class Batch:
    """A finished rollout, ready for the PPO update (torch tensors, shapes in the module docstring)."""

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
    """Per-step records of one rollout; `finish` turns them into a `Batch` with GAE done per trajectory."""

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
        active_flat = tt["active"].reshape(-1)
        entry_index = np.full(active_flat.shape, -1, dtype=np.int64)
        entry_index[active_flat] = np.arange(int(active_flat.sum()))
        flat_key = unit_obs * self.K + keys
        unit_entry = entry_index[flat_key]
        entry_obs = np.nonzero(active_flat)[0] // self.K
        inputs = batch_obs(self.obs)
        as_t = lambda x: torch.as_tensor(x, device=device)  # noqa: E731
        unit_obs_t, unit_entry_t, entry_obs_t = as_t(unit_obs), as_t(unit_entry), as_t(entry_obs)
        old_logp, old_value, _ = aggregate_units(
            unit_entry_t.cpu(), unit_obs_t.cpu(), torch.as_tensor(logprob), torch.zeros(len(logprob)),
            torch.as_tensor(unit_value, dtype=torch.float32), torch.as_tensor(self.global_value.reshape(-1)),
            entry_obs_t.cpu(), len(entry_obs), switches)
        batch = Batch(
            map_planes=as_t(inputs["map_planes"]), global_features=as_t(inputs["global_features"]),
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


@torch.no_grad()
def evaluate_games(net: torch.nn.Module, pool: EnvPool, device: torch.device, greedy: bool = True,
                   temperature: float = 1.0) -> Dict[str, float]:
    """Play every game of an evaluation pool to its end (self-play) and average its figures."""
    obs_by_env = pool.reset()
    episodes: List[Dict[str, float]] = [{} for _ in obs_by_env]
    live = [True] * len(obs_by_env)
    while any(live):
        envs = [e for e in range(len(obs_by_env)) if live[e]]
        flat = [o for e in envs for o in obs_by_env[e]]
        out = act(net, flat, device, greedy, temperature=temperature)
        per_env = split_actions(out["actions"], flat, [len(obs_by_env[e]) for e in envs])
        actions: List[Optional[List[np.ndarray]]] = [None] * len(obs_by_env)
        for e, a in zip(envs, per_env):
            actions[e] = a
        results = pool.step(actions)
        for e in envs:
            res = results[e]
            if res.ended:
                live[e] = False
                episodes[e] = res.episode or {}
            else:
                obs_by_env[e] = res.obs
    keys = sorted({k for ep in episodes for k in ep})
    return {"eval/" + ("finished_rate" if k == "finished" else k): float(np.mean([ep.get(k, 0.0) for ep in episodes]))
            for k in keys}
