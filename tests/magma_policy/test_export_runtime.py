from __future__ import annotations

import json
import os

import numpy as np
import pytest

from magma_policy import schema
from magma_policy.features import encode
from magma_policy.numpy_executor import NumpyExecutor, UnsupportedOperator
from magma_policy.onnx_reader import Graph, Node, load_graph
from magma_policy.runtime import load_policy
from tests.magma_policy.helpers import export_untrained_policy, random_features

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_untrained_policy(tmp_path_factory.mktemp("policy"))


def _torch_eval(net, f):
    n = len(f.unit_ids)
    with torch.no_grad():
        logits, value, _ = net(torch.from_numpy(f.map_planes[None]), torch.from_numpy(f.global_features[None]),
                               torch.zeros(n, dtype=torch.long), torch.from_numpy(f.unit_pos),
                               torch.from_numpy(f.unit_features), torch.from_numpy(f.action_mask))
    return logits.numpy(), value.numpy()


def _check_parity(exported, features_list):
    path, net = exported
    runtimes = [load_policy(path, backend="onnxruntime"), load_policy(path, backend="numpy")]
    for f in features_list:
        want_logits, want_value = _torch_eval(net, f)
        assert np.abs(want_logits[f.action_mask]).max() > 0.1  # non-trivial outputs
        for rt in runtimes:
            logits, value = rt.evaluate(f)
            np.testing.assert_allclose(logits, want_logits, atol=1e-4, rtol=0)
            np.testing.assert_allclose(value, want_value, atol=1e-4, rtol=0)


@pytest.mark.parametrize("size", [48, 64, 31])
def test_parity_on_random_inputs(exported, size):
    _check_parity(exported, [random_features(size, 40, seed=size)])


def test_parity_on_real_observations(exported, game48, game64):
    feats = [encode(g.states[-1], p) for g in (game48, game64) for p in ("player_0", "player_1")]
    assert all(len(f.unit_ids) > 0 for f in feats)
    _check_parity(exported, feats)


def test_zero_robots(exported):
    path, _ = exported
    f = random_features(48, 0)
    feeds = {"map_planes": f.map_planes[None], "global_features": f.global_features[None],
             "unit_pos": f.unit_pos, "unit_features": f.unit_features, "action_mask": f.action_mask}
    import onnxruntime as ort

    logits, value = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
    assert logits.shape == (0, f.action_mask.shape[1]) and value.shape == (0,)
    logits, value = NumpyExecutor.from_file(path).run(feeds)
    assert logits.shape == (0, f.action_mask.shape[1]) and value.shape == (0,)
    assert load_policy(path, backend="numpy").evaluate(f)[0].shape == (0, f.action_mask.shape[1])


def test_builtin_reader_matches_onnx_package(exported):
    path, _ = exported
    a, b = load_graph(path, use_onnx=True), load_graph(path, use_onnx=False)
    assert [n.op_type for n in a.nodes] == [n.op_type for n in b.nodes]
    assert a.inputs == b.inputs and a.outputs == b.outputs and a.opset == b.opset == 17
    assert set(a.initializers) == set(b.initializers)
    for k, v in a.initializers.items():
        assert v.dtype == b.initializers[k].dtype and np.array_equal(v, b.initializers[k])
    f = random_features(48, 9, seed=4)
    feeds = {"map_planes": f.map_planes[None], "global_features": f.global_features[None],
             "unit_pos": f.unit_pos, "unit_features": f.unit_features, "action_mask": f.action_mask}
    for x, y in zip(NumpyExecutor(a).run(feeds), NumpyExecutor(b).run(feeds)):
        np.testing.assert_allclose(x, y, atol=1e-6)


def test_unsupported_operator_is_named():
    graph = Graph([Node("Softplus", ["x"], ["y"], {})], {}, ["x"], ["y"])
    with pytest.raises(UnsupportedOperator, match="Softplus"):
        NumpyExecutor(graph)


def test_metadata_holds_the_schema(exported):
    path, _ = exported
    meta = json.load(open(path[:-5] + ".json"))
    assert meta["schema_version"] == schema.SCHEMA_VERSION and meta["network"]["channels"] > 0
    assert meta["actions"][0] == "NOOP" and meta["global_step"] == 0


def test_schema_mismatch_is_a_clear_error(exported, tmp_path):
    path, _ = exported
    meta = json.load(open(path[:-5] + ".json"))
    meta["schema_version"] = schema.SCHEMA_VERSION + 1
    meta["actions"] = meta["actions"][:-1]
    bad = tmp_path / "policy.onnx"
    bad.write_bytes(open(path, "rb").read())
    (tmp_path / "policy.json").write_text(json.dumps(meta))
    with pytest.raises(schema.SchemaMismatch, match="retrain, or re-export") as err:
        load_policy(str(bad))
    assert "schema_version" in str(err.value) and "actions" in str(err.value)


def test_missing_weights_name_the_path(tmp_path):
    missing = tmp_path / "nothing" / "policy.onnx"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_policy(str(missing))
    with pytest.raises(ValueError, match="backend"):
        load_policy(str(missing), backend="tensorflow")


def test_act_plays_decoded_queues(exported, game48):
    path, _ = exported
    state = game48.states[-1]
    rt = load_policy(path, backend="numpy")
    greedy = rt.act(state, "player_0")
    assert greedy == load_policy(path, backend="onnxruntime").act(state, "player_0")
    f = encode(state, "player_0")
    logits, _ = rt.evaluate(f)
    chosen = rt.choose(logits, f.action_mask, temperature=1.0)
    assert f.action_mask[np.arange(len(chosen)), chosen].all()
    with pytest.raises(ValueError, match="temperature"):
        rt.choose(logits, f.action_mask, temperature=-0.5)
    for uid, queue in greedy.items():
        assert uid in state.units["player_0"] and isinstance(queue, list)


def test_the_runtime_remembers_each_robots_home_from_turn_to_turn(exported):
    from lux.config import GameConfig
    from lux.state import GameState
    from tests.helpers import boards

    def state(pos, step):
        facs = {"factory_0": boards.factory((4, 8)), "factory_2": boards.factory((14, 8))}
        obs = boards.observation(boards.empty_board(24), {"unit_7": boards.robot(pos, "LIGHT")}, facs, step=step)
        return GameState.from_obs(obs, GameConfig(map_size=24))

    path, _ = exported
    rt = load_policy(path, backend="numpy")
    rt.act(state((4, 8), 10), "player_0")  # built by factory_0
    later = state((11, 8), 30)  # now nearer factory_2
    assert rt.act(later, "player_0") == load_policy(path, backend="numpy").act(
        later, "player_0", homes={"unit_7": "factory_0"})
    assert rt.homes.update(later, "player_0") == {"unit_7": "factory_0"}


def test_runtime_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; import magma_policy.runtime, magma_policy.numpy_executor, magma_policy.features; "
            "bad = [m for m in ('torch', 'onnxruntime', 'luxai_s2') if m in sys.modules]; print(bad); "
            "sys.exit(1 if bad else 0)")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr


def test_policy_plays_a_short_game_without_rejected_actions(exported):
    from tests.game import ActionCounter
    from tests.magma_policy.games import KAGGLE, play

    path, _ = exported
    rt = load_policy(path, backend="numpy")
    rt.seed(1)
    turns = []

    def policy(state, player):
        queues = rt.act(state, player, temperature=0.0 if player == "player_0" else 1.0)
        turns.append(len(queues))
        return queues

    with ActionCounter() as counter:
        steps = sum(1 for _ in play(11, KAGGLE, 40, policy))
    assert steps == 40 and sum(turns) > 0
    assert counter.seen > 0 and counter.rejected == 0


def test_temperature_sharpens_or_flattens_the_sampled_actions(exported):
    path, _ = exported
    rt = load_policy(path, backend="numpy")
    rt.seed(3)
    logits = np.tile(np.log(np.array([[0.6, 0.3, 0.1, 0.5]], dtype=np.float32)), (4000, 1))
    mask = np.tile(np.array([[True, True, True, False]]), (4000, 1))  # the masked action is never taken
    share = {}
    for temperature in (0.0, 0.25, 1.0, 4.0):
        chosen = rt.choose(logits, mask, temperature)
        assert (chosen != 3).all()
        share[temperature] = np.bincount(chosen, minlength=4)[:3] / len(chosen)
    assert share[0.0][0] == 1.0
    assert abs(share[1.0][0] - 0.6) < 0.03 and abs(share[1.0][2] - 0.1) < 0.02  # the trained distribution
    assert share[0.25][0] > 0.9 > share[1.0][0]  # softmax(log p / 0.25) gives the first action 0.94
    assert share[4.0][2] > share[1.0][2]  # a hot policy takes the rare action more often


def test_the_play_temperature_comes_from_the_metadata(exported, tmp_path):
    import shutil

    path, _ = exported
    assert load_policy(path, backend="numpy").play_temperature == 0.0  # exported without one: most likely action
    copy = tmp_path / "policy.onnx"
    shutil.copy(path, copy)
    meta = json.loads(open(os.path.splitext(path)[0] + ".json").read())
    for value in (0.5, -1, "hot"):
        meta["play_temperature"] = value
        (tmp_path / "policy.json").write_text(json.dumps(meta))
        if value == 0.5:
            assert load_policy(str(copy), backend="numpy").play_temperature == 0.5
        else:
            with pytest.raises(ValueError, match="play_temperature must be a number >= 0"):
                load_policy(str(copy), backend="numpy")


# -- the quarter architecture: its export equals torch, the numpy executor equals onnxruntime ---------------------

@pytest.fixture(scope="module")
def exported_quarter(tmp_path_factory):
    from magma_policy.export import export_untrained
    from magma_policy.network import NetworkConfig

    path = os.path.join(str(tmp_path_factory.mktemp("quarter")), "policy.onnx")
    net = export_untrained(path, NetworkConfig(channels=32, blocks=2, arch="quarter"), seed=3)
    with torch.no_grad():  # wake up the zero-initialised residual branches, so every layer counts
        g = torch.Generator().manual_seed(3)
        for block in net.blocks:
            block.conv2[1].weight.copy_(torch.rand(block.conv2[1].weight.shape, generator=g) + 0.5)
    from magma_policy.export import export_onnx

    export_onnx(net, path, {"global_step": 0, "evaluation": {}, "note": "untrained"})
    return path, net


def _padded(f, multiple=4):
    """f with its map planes zero-padded at the far edges to sides that are multiples of `multiple`."""
    import dataclasses

    pw, ph = (-f.map_planes.shape[1]) % multiple, (-f.map_planes.shape[2]) % multiple
    return dataclasses.replace(f, map_planes=np.pad(f.map_planes, ((0, 0), (0, pw), (0, ph))))


@pytest.mark.parametrize("size, on_map", [(48, True), (64, True), (48, False), (31, True)])
def test_quarter_export_equals_torch(exported_quarter, size, on_map):
    path, net = exported_quarter
    f = random_features(size, 40, seed=size)
    if on_map:
        f.map_planes[20] = 1.0  # as encode writes it (random values exercise the board masks)
    want_logits, want_value = _torch_eval(net, _padded(f))  # the runtime pads a 31 map to 32 as this does
    assert np.abs(want_logits[f.action_mask]).max() > 0.1
    for backend in ("onnxruntime", "numpy"):
        logits, value = load_policy(path, backend=backend).evaluate(f)
        np.testing.assert_allclose(logits, want_logits, atol=1e-4, rtol=0)
        np.testing.assert_allclose(value, want_value, atol=1e-4, rtol=0)


def test_quarter_numpy_executor_equals_onnxruntime_on_real_observations(exported_quarter, game48, game64):
    path, net = exported_quarter
    feats = [encode(g.states[-1], p) for g in (game48, game64) for p in ("player_0", "player_1")]
    ort_rt, np_rt = load_policy(path, backend="onnxruntime"), load_policy(path, backend="numpy")
    builtin = NumpyExecutor(load_graph(path, use_onnx=False))
    for f in feats:
        want = ort_rt.evaluate(f)
        for got in (np_rt.evaluate(f), _torch_eval(net, f)):
            np.testing.assert_allclose(got[0], want[0], atol=1e-4, rtol=0)
            np.testing.assert_allclose(got[1], want[1], atol=1e-4, rtol=0)
        feeds = {"map_planes": f.map_planes[None], "global_features": f.global_features[None],
                 "unit_pos": f.unit_pos, "unit_features": f.unit_features, "action_mask": f.action_mask}
        np.testing.assert_allclose(builtin.run(feeds)[0], want[0], atol=1e-4, rtol=0)


def test_quarter_zero_robots_and_metadata(exported_quarter):
    path, _ = exported_quarter
    f = random_features(48, 0)
    feeds = {"map_planes": f.map_planes[None], "global_features": f.global_features[None],
             "unit_pos": f.unit_pos, "unit_features": f.unit_features, "action_mask": f.action_mask}
    import onnxruntime as ort

    for run in (ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run,
                lambda _, feeds: NumpyExecutor.from_file(path).run(feeds)):
        logits, value = run(None, feeds)
        assert logits.shape == (0, f.action_mask.shape[1]) and value.shape == (0,)
    meta = json.load(open(path[:-5] + ".json"))
    assert meta["network"]["arch"] == "quarter" and meta["network"]["channels"] == 32


def test_quarter_policy_plays_decoded_queues(exported_quarter, game48):
    path, _ = exported_quarter
    state = game48.states[-1]
    for backend in ("onnxruntime", "numpy"):
        queues = load_policy(path, backend=backend).act(state, "player_0")
        assert isinstance(queues, dict) and all(isinstance(q, list) for q in queues.values())
