"""train/model.py: one network construction, seeding and input batching for PPO, imitation and export."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.train import stub_policy
from train.config import TrainConfig
from train.model import batch_inputs, make_network, seed_everything, stack_planes, training_network
from train.workers import SeatObs


@pytest.fixture()
def stub(monkeypatch):
    stub_policy.install(monkeypatch)


def test_stack_planes_pads_smaller_maps():
    planes = stack_planes([np.ones((2, 3, 3), dtype=np.float32), np.ones((2, 5, 5), dtype=np.float32)])
    assert planes.shape == (2, 2, 5, 5)
    assert planes[0, :, 3:, :].sum() == 0 and planes[0, :, :3, :3].sum() == 18


def test_batch_inputs_concatenates_units_and_names_their_view():
    views = [SeatObs(np.ones((2, 3, 3), dtype=np.float16), np.zeros(4), np.array([[0, 1], [2, 2]]),
                     np.zeros((2, 5)), np.ones((2, 6), dtype=bool), np.array([0, 1])),
             SeatObs(np.ones((2, 4, 4), dtype=np.float16), np.ones(4), np.zeros((0, 2)), np.zeros((0, 5)),
                     np.ones((0, 6), dtype=bool), np.zeros(0)),
             SeatObs(np.ones((2, 4, 4), dtype=np.float16), np.ones(4), np.array([[3, 3]]), np.ones((1, 5)),
                     np.ones((1, 6), dtype=bool), np.array([2]))]
    inputs = batch_inputs(views)
    assert inputs["map_planes"].shape == (3, 2, 4, 4) and inputs["map_planes"].dtype == np.float16
    assert inputs["unit_batch"].tolist() == [0, 0, 2]
    assert inputs["unit_pos"].tolist() == [[0, 1], [2, 2], [3, 3]]
    assert inputs["global_features"].dtype == np.float32 and inputs["unit_features"].shape == (3, 5)
    assert inputs["action_mask"].shape == (3, 6)


def test_the_same_seed_builds_the_same_network(stub):
    cfg = TrainConfig(net_channels=8, net_blocks=1)
    seed_everything(4)
    first = make_network(cfg)
    seed_everything(4)
    second = training_network(cfg)
    assert not second.training
    for name, value in first.state_dict().items():
        assert torch.equal(second.state_dict()[name], value), name
