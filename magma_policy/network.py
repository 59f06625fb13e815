"""The policy network (torch; training and export only).

One fully convolutional pass per map (one player's view), then each robot's action logits and value are read
out at its own cell, together with its own features and the global vector; a global value comes from the
mean-pooled trunk. Two architectures (`NetworkConfig.arch`, the trainer's `--net-arch`), built by
`build_network`:

`half` (PolicyNet, the shipped policy's). Trunk, for `channels` = c (48x48 map, c = 32: about 40 MFLOP per
forward):
  1x1 stem (C_in -> c/2) and one 3x3 conv at full resolution (local detail),
  a stride-2 3x3 conv to c channels, `blocks` bottleneck residual blocks at half resolution (context),
  a 1x1 projection back to c/2, nearest upsampling, added to the full-resolution features, and a last 3x3 conv.

`quarter` (QuarterNet): most computation at a quarter of the map's resolution (12x12 on a 48 map). For
`channels` = c (48x48 map, c = 32: about 16 MFLOP per forward, a quarter of `half`'s at the same width):
  a stride-2 3x3 conv of the map planes to c/2 channels (half resolution), a stride-2 3x3 conv to c channels
  (quarter resolution), `blocks` squeeze-and-excitation residual blocks there (two 3x3 convs; the branch is
  rescaled per channel by a gate computed from its mean over the whole board).
  Each robot reads, at its own cell: the map planes of its 3x3 neighbourhood (full resolution, zero beyond the
  map: the skip), the half-resolution features of its 2x2 cell and the quarter-resolution features of its 4x4
  cell (nearest upsampling, read at the robot's cell only), and the board's mean of the quarter-resolution
  features (the whole board). The global value reads the same mean. No layer runs over every full-resolution
  cell, so the cost of a forward is mostly the quarter-resolution blocks.

Batch normalisation follows every convolution, and is always used with its running statistics (eval mode)
in rollouts, in the PPO loss and in the export, so the function that picked an action is the one the update
differentiates (the PPO ratio is exactly 1 before the first step). The statistics are not learned by
gradient; `calibrate_batch_norm` re-estimates them from sample maps and should be called only between a
policy update and the next rollout. Left uncalibrated (running mean 0, variance 1) each layer is a learned
affine map, and the last layer of each residual branch starts at scale 0, so every block starts as identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .actions import N_ACTIONS
from .features import MAP_CHANNELS, N_GLOBAL_FEATURES, N_MAP_CHANNELS, N_UNIT_FEATURES

MASKED_LOGIT = -1e9


ARCHS = ("half", "quarter")


def _add_heads(net: nn.Module, c: int, hid: int) -> None:
    """The heads both networks share: each robot's hidden layer, its logits and value; the board's value."""
    net.unit_own = nn.Linear(N_UNIT_FEATURES, hid, bias=False)
    net.unit_global = nn.Linear(N_GLOBAL_FEATURES, hid, bias=False)
    net.unit_hidden = nn.Linear(hid, hid)
    net.policy = nn.Linear(hid, N_ACTIONS)
    net.unit_value = nn.Linear(hid, 1)
    net.global_hidden = nn.Linear(c + N_GLOBAL_FEATURES, hid)
    net.global_value = nn.Linear(hid, 1)
    net.register_buffer("masked_logit", torch.tensor(MASKED_LOGIT), persistent=False)


def _robot_heads(net: nn.Module, cell_term: torch.Tensor, unit_features: torch.Tensor, global_term: torch.Tensor,
                 action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Each robot's masked logits [N, A] and value [N] from what it reads off the maps (`cell_term` [N, hid])."""
    h = F.leaky_relu(cell_term + net.unit_own(unit_features) + global_term, net.slope)
    h = F.leaky_relu(net.unit_hidden(h), net.slope)
    logits = torch.where(action_mask, net.policy(h), net.masked_logit.to(h.dtype))
    return logits, net.unit_value(h).squeeze(1)


def _init_parameters(net: nn.Module, slope: float) -> None:
    """Orthogonal weights for the activation, zero biases; a small policy output (near-uniform over the allowed
    actions at first) and unit-scale value outputs."""
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.orthogonal_(m.weight, gain=nn.init.calculate_gain("leaky_relu", slope))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    nn.init.orthogonal_(net.policy.weight, gain=0.01)
    nn.init.orthogonal_(net.unit_value.weight, gain=1.0)
    nn.init.orthogonal_(net.global_value.weight, gain=1.0)


@dataclass
class NetworkConfig:
    channels: int = 32  # width of the half-resolution trunk (the full-resolution part has half); quarter: of the
    # quarter-resolution blocks (the half-resolution layer has half)
    blocks: int = 3  # residual blocks at half resolution (quarter: squeeze-and-excitation blocks at a quarter)
    head_hidden: int = 64  # hidden units of the per-robot and global heads
    negative_slope: float = 0.01  # LeakyReLU
    arch: str = "half"  # half (PolicyNet) | quarter (QuarterNet)


def conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, padding: Optional[int] = None) -> nn.Sequential:
    padding = k // 2 if padding is None else padding
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False), nn.BatchNorm2d(c_out))


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
        if cfg.arch != "half":
            raise ValueError("PolicyNet is the half architecture, got arch %r (use build_network)" % (cfg.arch,))
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
        _add_heads(self, c, hid)
        _init_parameters(self, self.slope)
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
        return _robot_heads(self, self.unit_cell(cell), unit_features, global_term, action_mask)

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


    def play(self, map_planes: torch.Tensor, global_features: torch.Tensor, unit_pos: torch.Tensor,
             unit_features: torch.Tensor, action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The play-time forward: one map (B = 1), N robots, no global value (what PlayGraph exports)."""
        cells, _ = self.trunk(map_planes)
        cell = read_cells(cells, unit_pos[:, 0], unit_pos[:, 1])
        global_term = self.unit_global(global_features)  # [1, hid], broadcast over robots
        return self.unit_heads(cell, unit_features, global_term, action_mask)


def read_cells(maps: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """[N, c]: the features of one map [1, c, W, H] at cells (xs[i], ys[i]), as the exported graph reads them
    (one index_select on the flattened map)."""
    c, h = maps.shape[1], maps.shape[3]
    flat = maps.reshape(c, -1)  # [c, W*H], tile (x, y) at x * H + y
    return torch.index_select(flat, 1, xs * h + ys).transpose(0, 1)


# The 3x3 neighbourhood a QuarterNet robot reads, (dx, dy) in this order.
PATCH_OFFSETS = tuple((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1))


class SEBlock(nn.Module):
    """act(x + gate * BN(3x3) . act . BN(3x3) (x)), gate = sigmoid(W2 act(W1 m)) per channel, m the branch's mean
    over the board; the last BN's scale starts at 0, so the block starts as identity (up to the activation).
    `on_map` [B, 1, W, H] (or None: every cell) zeroes the cells off the board."""

    def __init__(self, c: int, slope: float) -> None:
        super().__init__()
        squeeze = max(c // 4, 4)
        self.conv1 = conv_bn(c, c, 3)
        self.conv2 = conv_bn(c, c, 3)
        self.squeeze = nn.Linear(c, squeeze)
        self.excite = nn.Linear(squeeze, c)
        self.slope = slope

    def forward(self, x: torch.Tensor, on_map: Optional[torch.Tensor]) -> torch.Tensor:
        h = self.conv2(_masked(F.leaky_relu(self.conv1(x), self.slope), on_map))
        gate = torch.sigmoid(self.excite(F.leaky_relu(self.squeeze(board_mean(h, on_map)), self.slope)))
        return _masked(F.leaky_relu(x + h * gate[:, :, None, None], self.slope), on_map)


def _masked(x: torch.Tensor, on_map: Optional[torch.Tensor]) -> torch.Tensor:
    return x if on_map is None else x * on_map


def board_mean(x: torch.Tensor, on_map: Optional[torch.Tensor]) -> torch.Tensor:
    """[B, c]: the mean of x [B, c, W, H] over the cells on the board (weights `on_map` [B, 1, W, H]; None: all)."""
    if on_map is None:
        return x.mean(dim=(2, 3))
    return (x * on_map).sum(dim=(2, 3)) / on_map.sum(dim=(2, 3)).clamp(min=1e-6)


ON_MAP = MAP_CHANNELS.index("on_map")


class QuarterNet(nn.Module):
    """The `quarter` architecture (module docstring): the same inputs, outputs and play-time graph as PolicyNet.

    Both downsampling convolutions are 2x2 with stride 2, so the map's sides must be multiples of 4 (Lux maps are
    48 and 64; `magma_policy.runtime` pads other sizes at the far edges, off the board).

    Off the board: a cell is on it when the `on_map` plane is 1 at its first tile. Maps batched with larger ones
    are zero-padded at the far edges (`train.model.stack_planes`); the trunk zeroes every cell off the board and
    means are taken over the board, so a map's outputs do not depend on the maps batched with it. A batch whose
    `on_map` plane is 1 everywhere skips these masks (they are identities there); the play-time graph always
    applies them.
    """

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        if cfg.channels < 2 or cfg.blocks < 0:
            raise ValueError("channels must be >= 2 and blocks >= 0, got %r" % (cfg,))
        self.cfg = cfg
        c, half, hid = cfg.channels, max(cfg.channels // 2, 1), cfg.head_hidden
        self.slope = cfg.negative_slope
        self.down_half = conv_bn(N_MAP_CHANNELS, half, 2, stride=2, padding=0)
        self.down_quarter = conv_bn(half, c, 2, stride=2, padding=0)
        self.blocks = nn.ModuleList([SEBlock(c, self.slope) for _ in range(cfg.blocks)])
        self.unit_patch = nn.Linear(len(PATCH_OFFSETS) * N_MAP_CHANNELS, hid)
        self.unit_half = nn.Linear(half, hid, bias=False)
        self.unit_cell = nn.Linear(c, hid, bias=False)
        self.unit_board = nn.Linear(c, hid, bias=False)
        _add_heads(self, c, hid)
        _init_parameters(self, self.slope)
        for block in self.blocks:
            nn.init.zeros_(block.conv2[1].weight)

    @staticmethod
    def board_masks(map_planes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The on-board masks [B, 1, W/2, H/2] and [B, 1, W/4, H/4] (1 where a cell's first tile is on the map)."""
        on_map = map_planes[:, ON_MAP:ON_MAP + 1]
        return on_map[:, :, ::2, ::2].contiguous(), on_map[:, :, ::4, ::4].contiguous()

    def trunk(self, map_planes: torch.Tensor, masks: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Half-resolution features [B, c/2, W/2, H/2] and the quarter-resolution blocks' output [B, c, W/4, H/4],
        zero off the board where `masks` (board_masks) say; None: every cell is on it."""
        on_half, on_quarter = (None, None) if masks is None else masks
        half = _masked(F.leaky_relu(self.down_half(map_planes), self.slope), on_half)
        quarter = _masked(F.leaky_relu(self.down_quarter(half), self.slope), on_quarter)
        for block in self.blocks:
            quarter = block(quarter, on_quarter)
        return half, quarter

    def unit_heads(self, cell_term: torch.Tensor, unit_features: torch.Tensor, global_term: torch.Tensor,
                   action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """`cell_term` [N, hid]: what the robot reads off the maps; `global_term` [N or 1, hid]."""
        return _robot_heads(self, cell_term, unit_features, global_term, action_mask)

    def forward(self, map_planes: torch.Tensor, global_features: torch.Tensor, unit_batch: torch.Tensor,
                unit_pos: torch.Tensor, unit_features: torch.Tensor, action_mask: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """As PolicyNet.forward."""
        w, h = map_planes.shape[2], map_planes.shape[3]
        if w % 4 or h % 4:
            raise ValueError("the quarter network needs map sides that are multiples of 4, got %dx%d" % (w, h))
        padded = not bool((map_planes[:, ON_MAP] == 1).all())
        masks = self.board_masks(map_planes) if padded else None
        half, quarter = self.trunk(map_planes, masks)
        xs, ys = unit_pos[:, 0], unit_pos[:, 1]
        # The 3x3 neighbourhood of the map planes, zero beyond the batch's maps (as zero padding would give).
        px = xs[:, None] + xs.new_tensor([d[0] for d in PATCH_OFFSETS])
        py = ys[:, None] + ys.new_tensor([d[1] for d in PATCH_OFFSETS])
        inside = ((px >= 0) & (px < w) & (py >= 0) & (py < h)).to(map_planes.dtype)
        patch = map_planes[unit_batch[:, None], :, px.clamp(0, w - 1), py.clamp(0, h - 1)] * inside[:, :, None]
        board = board_mean(quarter, None if masks is None else masks[1])  # [B, c]
        cell_term = (self.unit_patch(patch.reshape(len(xs), self.unit_patch.in_features))
                     + self.unit_half(half[unit_batch, :, xs // 2, ys // 2])
                     + self.unit_cell(quarter[unit_batch, :, xs // 4, ys // 4]))
        global_term = (self.unit_global(global_features) + self.unit_board(board))[unit_batch]
        logits, unit_value = self.unit_heads(cell_term, unit_features, global_term, action_mask)
        pooled = torch.cat([board, global_features], dim=1)
        global_value = self.global_value(F.leaky_relu(self.global_hidden(pooled), self.slope)).squeeze(1)
        return logits, unit_value, global_value

    def play(self, map_planes: torch.Tensor, global_features: torch.Tensor, unit_pos: torch.Tensor,
             unit_features: torch.Tensor, action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The play-time forward (B = 1), the same function as `forward` for one map."""
        masks = self.board_masks(map_planes)
        half, quarter = self.trunk(map_planes, masks)
        xs, ys = unit_pos[:, 0], unit_pos[:, 1]
        n = unit_pos.shape[0]
        padded = F.pad(map_planes, (1, 1, 1, 1))
        c, h = padded.shape[1], padded.shape[3]
        index = torch.stack([(xs + 1 + dx) * h + (ys + 1 + dy) for dx, dy in PATCH_OFFSETS], dim=1)  # [N, 9]
        flat = torch.index_select(padded.reshape(c, -1), 1, index.reshape(-1))  # [C, N*9]
        patch = flat.reshape(c, n, len(PATCH_OFFSETS)).permute(1, 2, 0).reshape(n, self.unit_patch.in_features)
        two = torch.div(unit_pos, 2, rounding_mode="trunc")
        four = torch.div(unit_pos, 4, rounding_mode="trunc")
        cell_term = (self.unit_patch(patch) + self.unit_half(read_cells(half, two[:, 0], two[:, 1]))
                     + self.unit_cell(read_cells(quarter, four[:, 0], four[:, 1])))
        global_term = self.unit_global(global_features) + self.unit_board(board_mean(quarter, masks[1]))
        return self.unit_heads(cell_term, unit_features, global_term, action_mask)


def build_network(cfg: NetworkConfig = None) -> nn.Module:
    """The network `cfg.arch` names (PolicyNet for `half`, QuarterNet for `quarter`)."""
    cfg = cfg if isinstance(cfg, NetworkConfig) else NetworkConfig()
    if cfg.arch == "half":
        return PolicyNet(cfg)
    if cfg.arch == "quarter":
        return QuarterNet(cfg)
    raise ValueError("arch must be one of %s, got %r" % (", ".join(ARCHS), cfg.arch))


class PlayGraph(nn.Module):
    """The play-time graph the exporter writes: one map (B = 1), N robots, no global value."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, map_planes: torch.Tensor, global_features: torch.Tensor, unit_pos: torch.Tensor,
                unit_features: torch.Tensor, action_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.net.play(map_planes, global_features, unit_pos, unit_features, action_mask)


@torch.no_grad()
def calibrate_batch_norm(net: nn.Module, map_planes: torch.Tensor, chunk: int = 64) -> None:
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
