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
