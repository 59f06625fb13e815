"""The PPO update: epochs of minibatches over observations, losses over the active trajectory entries.

Minibatches are drawn over observations (one map evaluation each), so every unit of an observation is in the
same minibatch as its map; the loss then averages over the active (key, step) entries those observations hold.
Batch statistics: the network stays in eval mode in rollouts, updates and export, so the function that chose
an action is the one whose log-probability the update compares against (the PPO ratio starts at exactly 1).

Anchor (config `anchor_coef` > 0): the loss adds anchor_coef * KL(policy || anchor), averaged over the
minibatch's units, where the anchor is a frozen copy of the start policy (the imitation teacher's student).
PPO's clip bounds each update's step, not the sum of many small ones; the anchor bounds how far the sum can
drift from play that is known to keep factories alive. This direction of the KL lets the policy grow sharper
than the anchor (all its mass on the anchor's likeliest action costs only -log p_anchor of that action) while
making actions the anchor thinks unlikely expensive; KL(anchor || policy) would instead keep the sampled play
as noisy as the anchor. `anchor_temperature` below 1 sharpens the anchor toward its likeliest action (the
imitation policy plays that action, and plays it better than it samples).
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Set

import numpy as np
import torch

from train.rollout import Batch, net_forward
from train.separation import SeparationSwitches, aggregate_units, ppo_loss


class NonFiniteLoss(RuntimeError):
    pass


def anchor_kl(anchor_logits: torch.Tensor, logp_all: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
    """KL(policy || anchor) of each unit [N] over its legal actions (masked actions carry no probability)."""
    anchor_logp = torch.log_softmax(anchor_logits, dim=1)
    gap = (logp_all - anchor_logp).masked_fill(~action_mask, 0.0)
    return (logp_all.exp() * gap).sum(dim=1)


def minibatch_loss(net: torch.nn.Module, batch: Batch, mb_obs: torch.Tensor, cfg: Any,
                   switches: SeparationSwitches, anchor: Optional[torch.nn.Module] = None):
    """PPO terms for the observations `mb_obs` (indices into the batch's observations), plus the anchor's KL
    term when an anchor network is given."""
    device = batch.map_planes.device
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


def ppo_update(net: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, cfg: Any,
               switches: SeparationSwitches, generator: torch.Generator, update: int,
               anchor: Optional[torch.nn.Module] = None) -> Dict[str, float]:
    """`update_epochs` passes of `num_minibatches` minibatches; returns the standard metric names (with
    `losses/anchor_kl` when an anchor network is given)."""
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
            for name in ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac", "loss", "anchor_kl"):
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
    return metrics


def policy_parameters(net: torch.nn.Module, batch: Batch, cfg: Any, switches: SeparationSwitches,
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
    y = batch.returns.detach().cpu().numpy()
    p = batch.old_value.detach().cpu().numpy()
    var = np.var(y)
    return float("nan") if var == 0 else float(1 - np.var(y - p) / var)


def set_lr(optimizer: torch.optim.Optimizer, cfg: Any, update: int, num_updates: int) -> float:
    """Linear annealing from learning_rate to 0 over the run (update counts from 1)."""
    frac = 1.0 - (update - 1.0) / num_updates if cfg.anneal_lr else 1.0
    lr = frac * cfg.learning_rate
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr

