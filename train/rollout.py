"""Acting in the envs: one batched forward pass chooses every learning seat's actions for one env step.

Used by the trainer's rollouts (train/run.py; what they collect is stored and learned from in train/ppo.py) and
by its evaluation games.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from train.model import batch_inputs, channels_last, net_forward
from train.workers import EnvPool, SeatObs


def forward(net: torch.nn.Module, inputs: Dict[str, np.ndarray], device: torch.device, temperature: float = 1.0
            ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(masked logits [N, A], unit values [N], global values [B]) for numpy inputs."""
    t = {k: torch.as_tensor(v, device=device) for k, v in inputs.items()}
    # channels_last, as the PPO update's minibatches (train.ppo.Batch): the same convolutions, the same outputs
    planes = channels_last(t["map_planes"], torch.float32)
    return net_forward(net, planes, t["global_features"], t["unit_batch"], t["unit_pos"],
                       t["unit_features"], t["action_mask"], temperature)


@torch.no_grad()
def act(net: torch.nn.Module, obs: Sequence[SeatObs], device: torch.device, greedy: bool,
        generator: Optional[torch.Generator] = None, temperature: float = 1.0) -> Dict[str, np.ndarray]:
    """Chosen actions, their log-probs and the values for one step of all seats (one forward pass)."""
    inputs = batch_inputs(obs)
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
