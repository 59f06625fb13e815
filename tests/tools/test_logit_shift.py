import json
import os

import numpy as np
import pytest

from magma_policy.actions import ACTION_NAMES
from magma_policy.runtime import load_policy
from tests.magma_policy.helpers import export_untrained_policy, random_features
from tools import logit_shift

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    path, _ = export_untrained_policy(tmp_path_factory.mktemp("policy"))
    return path


def test_shift_parses_pairs_and_rejects_unknown_actions():
    assert logit_shift.parse_shift("go_ice=4,GO_ORE=-1.5") == {"GO_ICE": 4.0, "GO_ORE": -1.5}
    with pytest.raises(ValueError, match="ACTION=VALUE"):
        logit_shift.parse_shift("GO_LICHEN=1")
    with pytest.raises(ValueError, match="not a number"):
        logit_shift.parse_shift("GO_ICE=a lot")


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy"])
def test_the_shifted_policy_adds_the_shift_to_those_logits_only(policy, tmp_path, backend):
    pytest.importorskip(backend)
    target = str(tmp_path / "shifted" / "policy.onnx")
    assert logit_shift.shift_logits(policy, target, {"GO_ICE": 4.0, "NOOP": -1.0}) == {"GO_ICE": 4.0, "NOOP": -1.0}
    f = random_features(48, 30, seed=3)
    before, _ = load_policy(policy, backend=backend).evaluate(f)
    after, _ = load_policy(target, backend=backend).evaluate(f)
    want = np.zeros(len(ACTION_NAMES), np.float32)
    want[ACTION_NAMES.index("GO_ICE")], want[ACTION_NAMES.index("NOOP")] = 4.0, -1.0
    allowed = f.action_mask
    np.testing.assert_allclose((after - before)[allowed], np.broadcast_to(want, after.shape)[allowed], atol=1e-4)
    assert (after[~allowed] < -1e8).all()  # masked actions stay masked


def test_shifts_add_up_in_the_metadata_and_the_source_is_untouched(policy, tmp_path):
    source_bytes = open(policy, "rb").read()
    once, twice = str(tmp_path / "once.onnx"), str(tmp_path / "twice.onnx")
    logit_shift.shift_logits(policy, once, {"GO_ICE": 2.0})
    assert logit_shift.shift_logits(once, twice, {"GO_ICE": 1.0, "GO_ORE": -1.0}) == {"GO_ICE": 3.0, "GO_ORE": -1.0}
    with open(os.path.splitext(twice)[0] + ".json") as f:
        assert json.load(f)["logit_shift"] == {"GO_ICE": 3.0, "GO_ORE": -1.0}
    assert open(policy, "rb").read() == source_bytes


def test_command_line_refuses_to_overwrite_its_source(policy, capsys):
    with pytest.raises(SystemExit):
        logit_shift.main([policy, policy, "GO_ICE=1"])
    assert "somewhere else" in capsys.readouterr().err
