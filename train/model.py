"""The network the trainer trains: construction, starting weights, seeding, inputs and the policy's forward.

Shared by PPO (train/run.py, train/ppo.py), imitation (train/imitation.py) and export (train/export.py), so all
three build, initialise and call the same network the same way.
"""
from __future__ import annotations

import dataclasses
import os
import random
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from train import warm_start
from train.config import TrainConfig

MASKED_LOGIT = -1e9


# -- construction and seeding --------------------------------------------------------------------------------


def make_network(cfg: TrainConfig) -> torch.nn.Module:
    """magma_policy's network of the run's architecture, width and depth (fresh random weights from torch's
    generator)."""
    from magma_policy import network  # imported late: the trainer's tests replace magma_policy with a stub

    config_class = getattr(network, "NetworkConfig", None)
    if config_class is None:
        return network.PolicyNet(cfg)
    wanted = {"channels": cfg.net_channels, "blocks": cfg.net_blocks, "arch": cfg.net_arch}
    names = {f.name for f in dataclasses.fields(config_class)}
    build = getattr(network, "build_network", network.PolicyNet)
    return build(config_class(**{k: v for k, v in wanted.items() if k in names}))


def training_network(cfg: TrainConfig, device: Optional[torch.device] = None) -> torch.nn.Module:
    """make_network on `device`, in eval mode and channels_last memory: the CPU convolutions of the PPO update
    run ~30% faster that way, with identical outputs. (Export keeps make_network's default layout.)"""
    net = make_network(cfg).to(device or torch.device("cpu"), memory_format=torch.channels_last)
    net.eval()  # eval mode everywhere: the function that chose an action is the one the update re-evaluates
    return net


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; returns the generator the trainer samples actions and minibatches with."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


# -- starting weights --------------------------------------------------------------------------------------------


def load_init(path: str, option: str = "init_from") -> Dict[str, Any]:
    """Network weights to start from (or anchor to, `option` names the setting in messages): train/imitation.py's
    init.pt, any checkpoint of the same network, or an exported policy such as weights/policy.onnx
    (train.warm_start: inputs matched by name)."""
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: no file %s (write one with train/imitation.py, or give weights/policy.onnx)"
                                % (option, path))
    if warm_start.is_exported_policy(path):
        try:
            return warm_start.state_from_onnx(path)
        except ValueError as exc:
            raise ValueError("%s: %s" % (option, exc)) from None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "net" not in state:
        raise ValueError("%s: %s holds no network weights ('net')" % (option, path))
    return state["net"]


def load_weights(net: torch.nn.Module, cfg: TrainConfig, path: str, option: str) -> None:
    """`load_init(path)` into `net`; a network of another shape is a ValueError naming `option` and the run's shape."""
    try:
        net.load_state_dict(load_init(path, option))
    except RuntimeError as exc:
        raise ValueError("%s: %s does not fit this network (net_arch %s, net_channels %d, net_blocks %d): %s"
                         % (option, path, cfg.net_arch, cfg.net_channels, cfg.net_blocks,
                            str(exc).splitlines()[0])) from None


def anchor_network(cfg: TrainConfig, device: torch.device) -> Optional[torch.nn.Module]:
    """The frozen policy the anchor term pulls toward (None when anchor_coef is 0). Read from its file on every
    start, resumes included: the file must stay where the config says."""
    if cfg.anchor_coef <= 0:
        return None
    net = training_network(cfg, device)
    if cfg.anchor_from:
        load_weights(net, cfg, cfg.anchor_from, "anchor_from")
    else:
        load_weights(net, cfg, cfg.init_from, "init_from")
    for p in net.parameters():
        p.requires_grad_(False)
    return net


# -- inputs and forward ------------------------------------------------------------------------------------------


def stack_planes(planes: Sequence[np.ndarray]) -> np.ndarray:
    """Stack [C, H, W] maps; smaller maps (a Kaggle map among NeurIPS ones) are zero-padded at the far edges."""
    h = max(p.shape[1] for p in planes)
    w = max(p.shape[2] for p in planes)
    if all(p.shape[1] == h and p.shape[2] == w for p in planes):
        return np.stack(planes)  # one map size (every training batch of a one-config run)
    out = np.zeros((len(planes), planes[0].shape[0], h, w), dtype=planes[0].dtype)
    for i, p in enumerate(planes):
        out[i, :, :p.shape[1], :p.shape[2]] = p
    return out


def channels_last(maps: torch.Tensor, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
    """`maps` [B, C, H, W] in channels_last memory (as `dtype`), the layout of the training network's weights, in
    one copy (Tensor.float() then .contiguous(memory_format=...) takes two passes and is several times slower)."""
    out = torch.empty(maps.shape, dtype=dtype or maps.dtype, device=maps.device, memory_format=torch.channels_last)
    return out.copy_(maps)


def batch_inputs(views: Sequence[Any]) -> Dict[str, np.ndarray]:
    """Network inputs (numpy) for a list of player views, each with `map_planes`, `global_features`, `unit_pos`,
    `unit_features` and `action_mask` (a rollout's SeatObs, an imitation Sample): unit arrays concatenated,
    `unit_batch` [N] = the view each unit belongs to. map_planes keep their dtype (float16 in rollouts)."""
    counts = [len(v.action_mask) for v in views]
    return dict(
        map_planes=stack_planes([v.map_planes for v in views]),
        global_features=np.stack([v.global_features for v in views]).astype(np.float32),
        unit_batch=np.repeat(np.arange(len(views)), counts).astype(np.int64),
        unit_pos=np.concatenate([v.unit_pos.reshape(-1, 2) for v in views]).astype(np.int64),
        unit_features=np.concatenate([v.unit_features for v in views]).astype(np.float32),
        action_mask=np.concatenate([v.action_mask for v in views]).astype(bool),
    )


def net_forward(net: torch.nn.Module, map_planes: torch.Tensor, global_features: torch.Tensor,
                unit_batch: torch.Tensor, unit_pos: torch.Tensor, unit_features: torch.Tensor,
                action_mask: torch.Tensor, temperature: float = 1.0
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(masked logits [N, A], unit values [N], global values [B]). The policy's logits are the network's divided
    by `temperature` (config `policy_temperature`): below 1 the trained distribution is sharper than the
    network's, closer to the most likely action the agent can play."""
    logits, unit_value, global_value = net(map_planes, global_features, unit_batch, unit_pos, unit_features,
                                           action_mask)
    if temperature != 1.0:
        logits = logits / temperature
    # Masked actions can never be sampled, whatever the network does with the mask.
    logits = logits.masked_fill(~action_mask, MASKED_LOGIT)
    return logits, unit_value.reshape(-1), global_value.reshape(-1)
