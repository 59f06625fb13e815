"""The policy network (torch; training and export only).

One fully convolutional pass per map (one player's view), then each robot's action logits and value are read
out at its own cell, together with its own features and the global vector; a global value comes from the
mean-pooled trunk.

Trunk, for `channels` = c (48x48 map, c = 32: about 40 MFLOP per forward):
  1x1 stem (C_in -> c/2) and one 3x3 conv at full resolution (local detail),
  a stride-2 3x3 conv to c channels, `blocks` bottleneck residual blocks at half resolution (context),
  a 1x1 projection back to c/2, nearest upsampling, added to the full-resolution features, and a last 3x3 conv.

Batch normalisation follows every convolution, and is always used with its running statistics (eval mode)
in rollouts, in the PPO loss and in the export, so the function that picked an action is the one the update
differentiates (the PPO ratio is exactly 1 before the first step). The statistics are not learned by
gradient; `calibrate_batch_norm` re-estimates them from sample maps and should be called only between a
policy update and the next rollout. Left uncalibrated (running mean 0, variance 1) each layer is a learned
affine map, and the last layer of each residual branch starts at scale 0, so every block starts as identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .actions import N_ACTIONS
from .features import N_GLOBAL_FEATURES, N_MAP_CHANNELS, N_UNIT_FEATURES

MASKED_LOGIT = -1e9


@dataclass
class NetworkConfig:
    channels: int = 32  # width of the half-resolution trunk (the full-resolution part has half)
    blocks: int = 3  # residual blocks at half resolution
    head_hidden: int = 64  # hidden units of the per-robot and global heads
    negative_slope: float = 0.01  # LeakyReLU


def conv_bn(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(c_out))


class Bottleneck(nn.Module):
    """x + BN(1x1) . act . BN(3x3) . act . BN(1x1) (x), with the last BN's scale starting at 0."""

    def __init__(self, c: int, slope: float) -> None:
        super().__init__()
        mid = max(c // 2, 1)
        self.reduce = conv_bn(c, mid, 1)
        self.spatial = conv_bn(mid, mid, 3)
        self.expand = conv_bn(mid, c, 1)
        nn.init.zeros_(self.expand[1].weight)
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.reduce(x), self.slope)
        h = F.leaky_relu(self.spatial(h), self.slope)
        return F.leaky_relu(x + self.expand(h), self.slope)


class PolicyNet(nn.Module):
    def __init__(self, cfg: NetworkConfig = None) -> None:
        super().__init__()
        cfg = cfg if isinstance(cfg, NetworkConfig) else NetworkConfig()
        if cfg.channels < 2 or cfg.blocks < 0:
            raise ValueError("channels must be >= 2 and blocks >= 0, got %r" % (cfg,))
        self.cfg = cfg
        c, half = cfg.channels, max(cfg.channels // 2, 1)
        self.slope = cfg.negative_slope
        self.stem = conv_bn(N_MAP_CHANNELS, half, 1)
        self.local = conv_bn(half, half, 3)
        self.down = conv_bn(half, c, 3, stride=2)
        self.blocks = nn.Sequential(*[Bottleneck(c, self.slope) for _ in range(cfg.blocks)])
        self.up = conv_bn(c, half, 1)
        self.merge = conv_bn(half, half, 3)
        hid = cfg.head_hidden
        self.unit_cell = nn.Linear(half, hid)
        self.unit_own = nn.Linear(N_UNIT_FEATURES, hid, bias=False)
        self.unit_global = nn.Linear(N_GLOBAL_FEATURES, hid, bias=False)
        self.unit_hidden = nn.Linear(hid, hid)
        self.policy = nn.Linear(hid, N_ACTIONS)
        self.unit_value = nn.Linear(hid, 1)
        self.global_hidden = nn.Linear(c + N_GLOBAL_FEATURES, hid)
        self.global_value = nn.Linear(hid, 1)
        self.register_buffer("masked_logit", torch.tensor(MASKED_LOGIT), persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.orthogonal_(m.weight, gain=nn.init.calculate_gain("leaky_relu", self.slope))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        # Small policy output: near-uniform over the allowed actions at first; unit-scale value outputs.
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.orthogonal_(self.unit_value.weight, gain=1.0)
        nn.init.orthogonal_(self.global_value.weight, gain=1.0)
        for block in self.blocks:
            nn.init.zeros_(block.expand[1].weight)

    def trunk(self, map_planes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-cell features [B, c/2, W, H] and the half-resolution context [B, c, W', H']."""
        act = lambda t: F.leaky_relu(t, self.slope)  # noqa: E731
        x = act(self.local(act(self.stem(map_planes))))
        ctx = self.blocks(act(self.down(x)))
        up = F.interpolate(self.up(ctx), scale_factor=2.0, mode="nearest")
        cells = act(self.merge(act(x + up[:, :, : x.shape[2], : x.shape[3]])))
        return cells, ctx

    def unit_heads(self, cell: torch.Tensor, unit_features: torch.Tensor, global_term: torch.Tensor,
                   action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = F.leaky_relu(self.unit_cell(cell) + self.unit_own(unit_features) + global_term, self.slope)
        h = F.leaky_relu(self.unit_hidden(h), self.slope)
        logits = torch.where(action_mask, self.policy(h), self.masked_logit.to(h.dtype))
        return logits, self.unit_value(h).squeeze(1)

    def forward(self, map_planes: torch.Tensor, global_features: torch.Tensor, unit_batch: torch.Tensor,
                unit_pos: torch.Tensor, unit_features: torch.Tensor, action_mask: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """logits [N, A] (masked: -1e9), unit_value [N], global_value [B]; unit i lives in map unit_batch[i]."""
        cells, ctx = self.trunk(map_planes)
        cell = cells[unit_batch, :, unit_pos[:, 0], unit_pos[:, 1]]
        global_term = self.unit_global(global_features)[unit_batch]
        logits, unit_value = self.unit_heads(cell, unit_features, global_term, action_mask)
        pooled = torch.cat([ctx.mean(dim=(2, 3)), global_features], dim=1)
        global_value = self.global_value(F.leaky_relu(self.global_hidden(pooled), self.slope)).squeeze(1)
        return logits, unit_value, global_value


class PlayGraph(nn.Module):
    """The play-time graph the exporter writes: one map (B = 1), N robots, no global value."""

    def __init__(self, net: PolicyNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, map_planes: torch.Tensor, global_features: torch.Tensor, unit_pos: torch.Tensor,
                unit_features: torch.Tensor, action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        cells, _ = self.net.trunk(map_planes)
        c, h = cells.shape[1], cells.shape[3]
        flat = cells.reshape(c, -1)  # [c, W*H], tile (x, y) at x * H + y
        index = unit_pos[:, 0] * h + unit_pos[:, 1]
        cell = torch.index_select(flat, 1, index).transpose(0, 1)
        global_term = self.net.unit_global(global_features)  # [1, hid], broadcast over robots
        return self.net.unit_heads(cell, unit_features, global_term, action_mask)


@torch.no_grad()
def calibrate_batch_norm(net: PolicyNet, map_planes: torch.Tensor, chunk: int = 64) -> None:
    """Re-estimate every BatchNorm's running statistics as the plain average over `map_planes` [B, C, W, H].

    Changes the policy's function: call it between an update and the next rollout, never inside one.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.momentum, m.training) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches seen
        m.train()
    try:
        for start in range(0, len(map_planes), chunk):
            net.trunk(map_planes[start: start + chunk])
    finally:
        for m, (momentum, training) in zip(norms, saved):
            m.momentum = momentum
            m.train(training)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
