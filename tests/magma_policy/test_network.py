from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from magma_policy.actions import N_ACTIONS  # noqa: E402
from magma_policy.network import NetworkConfig, PolicyNet, calibrate_batch_norm, count_parameters  # noqa: E402
from tests.magma_policy.helpers import random_features  # noqa: E402


def _batch(size=20, maps=2, n=6):
    fs = [random_features(size, n, seed=i) for i in range(maps)]
    return (torch.from_numpy(np.stack([f.map_planes for f in fs])),
            torch.from_numpy(np.stack([f.global_features for f in fs])),
            torch.arange(maps).repeat_interleave(n),
            torch.from_numpy(np.concatenate([f.unit_pos for f in fs])),
            torch.from_numpy(np.concatenate([f.unit_features for f in fs])),
            torch.from_numpy(np.concatenate([f.action_mask for f in fs])))


def test_shapes_masking_and_size():
    net = PolicyNet(NetworkConfig()).eval()
    inputs = _batch()
    logits, unit_value, global_value = net(*inputs)
    assert logits.shape == (12, N_ACTIONS) and unit_value.shape == (12,) and global_value.shape == (2,)
    mask = inputs[5]
    assert (logits[~mask] == -1e9).all() and (logits[mask].abs() < 1).all()  # small-gain policy output
    assert count_parameters(net) <= 200_000


def test_a_robot_reads_its_own_map():
    net = PolicyNet().eval()
    planes, glob, batch, pos, feats, mask = _batch()
    base = net(planes, glob, batch, pos, feats, mask)[1]
    planes2 = planes.clone()
    planes2[1] += 1.0  # change only the second map
    changed = net(planes2, glob, batch, pos, feats, mask)[1]
    assert torch.allclose(base[:6], changed[:6]) and not torch.allclose(base[6:], changed[6:])


def test_eval_mode_outputs_do_not_depend_on_the_batch():
    # Eval-mode batch norm: a map's outputs are the same alone or in a batch (PPO ratio 1 before any update).
    net = PolicyNet().eval()
    planes, glob, batch, pos, feats, mask = _batch(maps=2)
    both = net(planes, glob, batch, pos, feats, mask)[0]
    alone = net(planes[:1], glob[:1], batch[:6], pos[:6], feats[:6], mask[:6])[0]
    assert torch.allclose(both[:6], alone, atol=1e-5)


def test_calibration_sets_batch_statistics_and_keeps_eval_mode():
    net = PolicyNet().eval()
    planes = _batch(maps=4)[0] * 3 + 1
    calibrate_batch_norm(net, planes)
    assert not net.training
    stem_bn = net.stem[1]
    assert stem_bn.momentum == 0.1 and not stem_bn.training
    with torch.no_grad():
        pre = net.stem[0](planes)
    assert torch.allclose(stem_bn.running_mean, pre.mean(dim=(0, 2, 3)), atol=1e-4)


def test_gradients_reach_the_trunk():
    net = PolicyNet().eval()
    logits, unit_value, global_value = net(*_batch())
    (unit_value.sum() + global_value.sum() + logits.clamp(min=-10).sum()).backward()
    assert net.stem[0].weight.grad is not None and net.stem[0].weight.grad.abs().sum() > 0


# -- the quarter architecture (QuarterNet, `--net-arch quarter`) -------------------------------------------------

def _quarter(channels=32, blocks=2):
    from magma_policy.network import build_network

    return build_network(NetworkConfig(channels=channels, blocks=blocks, arch="quarter")).eval()


def test_build_network_picks_the_architecture():
    from magma_policy.network import QuarterNet, build_network

    assert isinstance(build_network(NetworkConfig()), PolicyNet)
    assert isinstance(build_network(NetworkConfig(arch="quarter")), QuarterNet)
    with pytest.raises(ValueError, match="arch must be one of half, quarter"):
        build_network(NetworkConfig(arch="eighth"))


def test_quarter_shapes_masking_and_size():
    from train.config import PRESETS

    fast = PRESETS["fast"]
    net = _quarter(fast["net_channels"], fast["net_blocks"])
    inputs = _batch(size=48)
    logits, unit_value, global_value = net(*inputs)
    assert logits.shape == (12, N_ACTIONS) and unit_value.shape == (12,) and global_value.shape == (2,)
    mask = inputs[5]
    assert (logits[~mask] == -1e9).all() and (logits[mask].abs() < 1).all()
    assert count_parameters(net) <= 200_000
    assert count_parameters(_quarter(48, 3)) <= 200_000  # a wider one still fits
    half, quarter = net.trunk(inputs[0])
    assert half.shape[2:] == (24, 24) and quarter.shape[2:] == (12, 12)  # most computation at 12x12


def test_quarter_map_sides_must_be_multiples_of_four():
    with pytest.raises(ValueError, match="multiples of 4"):
        _quarter()(*_batch(size=30))


def test_quarter_robot_reads_its_own_map_and_its_own_cell():
    net = _quarter()
    planes, glob, batch, pos, feats, mask = _batch(size=48)
    base = net(planes, glob, batch, pos, feats, mask)[0]
    planes2 = planes.clone()
    planes2[1] += 1.0  # change only the second map
    changed = net(planes2, glob, batch, pos, feats, mask)[0]
    assert torch.allclose(base[:6], changed[:6]) and not torch.allclose(base[6:], changed[6:])
    # One tile next to the first robot changes its logits more than a far robot's (its 3x3 neighbourhood).
    planes3 = planes.clone()
    x, y = int(pos[0, 0]), int(pos[0, 1])
    planes3[0, :, min(x + 1, 47), y] += 5.0
    moved = net(planes3, glob, batch, pos, feats, mask)[0]
    assert not torch.allclose(moved[0], base[0])


def test_quarter_sees_the_whole_board():
    # A tile far from every robot (beyond the convolutions' reach) still changes their outputs: the
    # squeeze-and-excitation gates and the board mean read the whole board.
    net = _quarter()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))  # wake up the zero-initialised residual branches
    planes = torch.zeros(1, planes_channels(), 48, 48)
    planes[:, 20] = 1.0  # on_map
    pos = torch.tensor([[2, 2]])
    args = (torch.zeros(1, 16), torch.zeros(1, dtype=torch.long), pos, torch.zeros(1, 41),
            torch.ones(1, N_ACTIONS, dtype=torch.bool))
    far = planes.clone()
    far[0, 0, 46, 46] = 1.0  # ice in the far corner
    assert not torch.allclose(net(planes, *args)[1], net(far, *args)[1])


def planes_channels():
    from magma_policy.features import N_MAP_CHANNELS

    return N_MAP_CHANNELS


def test_quarter_outputs_do_not_depend_on_the_maps_batched_with_them():
    # A 48 map zero-padded into a batch with a 64 map: the same outputs as alone (the trunk masks the padding).
    net = _quarter()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    a, b = random_features(48, 5, seed=1), random_features(64, 6, seed=2)
    for f in (a, b):
        f.map_planes[20] = 1.0  # on_map
    from train.model import stack_planes

    planes = torch.from_numpy(stack_planes([a.map_planes, b.map_planes]))
    glob = torch.from_numpy(np.stack([a.global_features, b.global_features]))
    batch = torch.tensor([0] * 5 + [1] * 6)
    pos = torch.from_numpy(np.concatenate([a.unit_pos, b.unit_pos]))
    feats = torch.from_numpy(np.concatenate([a.unit_features, b.unit_features]))
    mask = torch.from_numpy(np.concatenate([a.action_mask, b.action_mask]))
    with torch.no_grad():
        both = net(planes, glob, batch, pos, feats, mask)
        alone = net(torch.from_numpy(a.map_planes[None]), glob[:1], batch[:5], pos[:5], feats[:5], mask[:5])
    for x, y in zip(both, alone):
        assert torch.allclose(x[:len(y)], y, atol=1e-5)


def test_quarter_gradients_reach_the_trunk():
    net = _quarter()
    logits, unit_value, global_value = net(*_batch(size=48))
    (unit_value.sum() + global_value.sum() + logits.clamp(min=-10).sum()).backward()
    assert net.down_half[0].weight.grad is not None and net.down_half[0].weight.grad.abs().sum() > 0
    assert net.unit_patch.weight.grad.abs().sum() > 0
