from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from magma_policy import features
from magma_policy.export import metadata_path
from magma_policy.network import NetworkConfig, PolicyNet
from tests.magma_policy.helpers import export_untrained_policy, random_features
from train import warm_start
from train.model import load_init

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    # Random batch-norm statistics and affine parameters: the folded layers must come back exactly.
    return export_untrained_policy(tmp_path_factory.mktemp("policy"), seed=3)


def _outputs(net, f):
    n = len(f.unit_ids)
    net.eval()
    with torch.no_grad():
        logits, value, _ = net(torch.from_numpy(f.map_planes[None]), torch.from_numpy(f.global_features[None]),
                               torch.zeros(n, dtype=torch.long), torch.from_numpy(f.unit_pos),
                               torch.from_numpy(f.unit_features), torch.from_numpy(f.action_mask))
    return logits.numpy(), value.numpy()


def _warm_net(path):
    meta = json.load(open(metadata_path(path)))
    net = PolicyNet(NetworkConfig(**meta["network"]))
    net.load_state_dict(warm_start.state_from_onnx(path))
    return net


@pytest.mark.parametrize("size", [48, 64])
def test_the_read_back_network_computes_what_was_exported(exported, size):
    path, original = exported
    f = random_features(size, 30, seed=size)
    want_logits, want_value = _outputs(original, f)
    logits, value = _outputs(_warm_net(path), f)
    assert np.abs(want_logits[f.action_mask]).max() > 0.1  # non-trivial outputs
    np.testing.assert_allclose(logits, want_logits, atol=1e-4, rtol=0)
    np.testing.assert_allclose(value, want_value, atol=1e-4, rtol=0)


def _with_metadata(exported, tmp_path, edit):
    path, _ = exported
    copy = str(tmp_path / "policy.onnx")
    shutil.copy(path, copy)
    meta = json.load(open(metadata_path(path)))
    edit(meta)
    json.dump(meta, open(metadata_path(copy), "w"))
    return copy


def test_a_feature_the_file_lacks_starts_with_zero_weights(exported, tmp_path):
    new, old_name = "home_metal", "a_feature_since_dropped"

    def rename(meta):  # the file's column for `new` stands for a feature this code no longer computes
        meta["unit_features"][meta["unit_features"].index(new)] = old_name

    path = _with_metadata(exported, tmp_path, rename)
    assert warm_start.new_inputs(path)["unit_features"] == (new,)
    _, original = exported
    net = _warm_net(path)
    col = features.UNIT_FEATURES.index(new)
    weight, want = net.unit_own.weight.detach().numpy(), original.unit_own.weight.detach().numpy()
    assert not weight[:, col].any() and np.abs(want[:, col]).max() > 0
    np.testing.assert_array_equal(np.delete(weight, col, axis=1), np.delete(want, col, axis=1))
    # With the new input at 0 the original network computes the same; the read-back one ignores the input.
    f = random_features(48, 20, seed=1)
    f.unit_features[:, col] = 0.0
    want_logits, _ = _outputs(original, f)
    logits, _ = _outputs(net, f)
    np.testing.assert_allclose(logits, want_logits, atol=1e-4, rtol=0)
    f.unit_features[:, col] = 1.0
    np.testing.assert_allclose(_outputs(net, f)[0], logits, atol=1e-6, rtol=0)


def test_inputs_are_matched_by_name_not_position(exported, tmp_path):
    a, b = features.MAP_CHANNELS.index("ice"), features.MAP_CHANNELS.index("ore")

    def swap(meta):
        names = meta["map_channels"]
        names[a], names[b] = names[b], names[a]

    path = _with_metadata(exported, tmp_path, swap)
    _, original = exported
    got = warm_start.state_from_onnx(path)["stem.0.weight"].numpy()
    want = _warm_net(exported[0]).state_dict()["stem.0.weight"].numpy()
    np.testing.assert_array_equal(got[:, a], want[:, b])
    np.testing.assert_array_equal(got[:, b], want[:, a])
    assert original.stem[0].weight.shape == got.shape


def test_other_actions_are_refused(exported, tmp_path):
    path = _with_metadata(exported, tmp_path, lambda meta: meta["actions"].append("SELF_DESTRUCT"))
    with pytest.raises(ValueError, match="actions"):
        warm_start.state_from_onnx(path)


def test_unreadable_files_are_clear_errors(exported, tmp_path):
    path, _ = exported
    lone = tmp_path / "lone.onnx"
    shutil.copy(path, lone)  # no lone.json beside it
    with pytest.raises(ValueError, match="metadata"):
        warm_start.state_from_onnx(str(lone))
    broken = tmp_path / "policy.onnx"
    broken.write_bytes(b"not a network")
    shutil.copy(metadata_path(path), metadata_path(str(broken)))
    with pytest.raises(ValueError, match="cannot read"):
        load_init(str(broken))


def test_load_init_accepts_an_exported_policy(exported):
    path, original = exported
    state = load_init(path)
    net = PolicyNet(original.cfg)
    net.load_state_dict(state)  # every key of the network is there, with its shape
    np.testing.assert_array_equal(state["policy.weight"].numpy(), original.policy.weight.detach().numpy())


def test_a_quarter_export_is_refused_with_a_clear_message(tmp_path):
    from magma_policy.export import export_untrained
    from magma_policy.network import NetworkConfig
    from train.warm_start import state_from_onnx

    path = str(tmp_path / "policy.onnx")
    export_untrained(path, NetworkConfig(channels=8, blocks=1, arch="quarter"))
    with pytest.raises(ValueError, match="quarter network is read back from its checkpoint"):
        state_from_onnx(path)
