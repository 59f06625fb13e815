"""Imitation warm start: labels follow the heuristic's plans within the masks; fitting learns them; the trainer
starts from the fitted weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lux import actions as A
from magma_policy.actions import (
    DIG,
    GO_HOME,
    GO_ICE,
    MOVE_DOWN,
    MOVE_LEFT,
    N_ACTIONS,
    NOOP,
    PICKUP_POWER,
    TRANSFER_ICE,
    action_id,
)
from train import imitation
from train.config import TrainConfig
from train.model import make_network
from train.run import Trainer


def test_action_id_maps_lux_actions_onto_the_policy_actions():
    assert action_id(A.move(A.LEFT)) == MOVE_LEFT
    assert action_id(A.move(A.CENTER)) == NOOP
    assert action_id(A.dig(n=5)) == DIG
    assert action_id(A.transfer(A.UP, A.ICE, 100)) == TRANSFER_ICE
    assert action_id(A.transfer(A.UP, A.POWER, 100)) == NOOP
    assert action_id(A.pickup(A.POWER, 500)) == PICKUP_POWER
    assert action_id(A.recharge(100)) == NOOP
    assert action_id(None) == NOOP


def test_a_plan_the_mask_rules_out_is_labelled_noop():
    mask = np.ones((2, N_ACTIONS), dtype=bool)
    mask[1, DIG] = False
    labels = imitation.heuristic_labels({"unit_1": A.dig(), "unit_2": A.dig()}, ["unit_1", "unit_2", "unit_3"],
                                        np.vstack([mask, np.ones((1, N_ACTIONS), bool)]))
    assert labels.tolist() == [DIG, NOOP, NOOP]


def test_walks_are_labelled_with_what_the_robot_wanted():
    # unit_1 wanted down to its ice tile but was made to wait by collisions; unit_2 wanted left to a tile that is
    # none of its targets; unit_3's walk home is masked out, so its wanted move is the label.
    plans = {"unit_1": A.recharge(100), "unit_2": A.move(A.LEFT), "unit_3": A.move(A.DOWN), "unit_4": A.dig()}
    intentions = ({"unit_1": (5, 9), "unit_2": (0, 0), "unit_3": (3, 3)},
                  {"unit_1": A.DOWN, "unit_2": A.LEFT, "unit_3": A.DOWN})
    targets = {"home": [(3, 3), (3, 3), (3, 3), (3, 3)], "ice": [(5, 9), (5, 9), None, None],
               "ore": [None] * 4, "rubble": [None] * 4}
    mask = np.ones((4, N_ACTIONS), dtype=bool)
    mask[2, GO_HOME] = False
    labels = imitation.heuristic_labels(plans, ["unit_1", "unit_2", "unit_3", "unit_4"], mask, intentions, targets)
    assert labels.tolist() == [GO_ICE, MOVE_LEFT, MOVE_DOWN, DIG]


@pytest.fixture(scope="module")
def samples():
    return imitation.record_game((3, True, 4, 60))


def test_recorded_labels_are_allowed_and_not_all_idle(samples):
    assert samples, "robots exist within 60 steps"
    for s in samples:
        assert s.action_mask.shape == (len(s.labels), N_ACTIONS)
        assert s.action_mask[np.arange(len(s.labels)), s.labels].all()
    labels = np.concatenate([s.labels for s in samples])
    assert (labels != NOOP).mean() > 0.3  # the heuristic's robots move and dig most of the time
    assert (labels == GO_ICE).any()  # heavies walk to their ice tiles


def test_fitting_lowers_the_loss_on_the_recorded_choices(samples):
    torch.manual_seed(0)
    net = make_network(TrainConfig(net_channels=8, net_blocks=1))
    net.eval()
    before, acc_before = imitation.accuracy(net, samples)
    imitation.fit(net, samples, samples, epochs=8, lr=3e-3, batch=4, seed=0, log=lambda _m: None)
    after, acc_after = imitation.accuracy(net, samples)
    assert after < 0.7 * before and acc_after > acc_before


def test_the_trainer_starts_from_the_init_weights(tmp_path, samples):
    net = make_network(TrainConfig(net_channels=8, net_blocks=1))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.5)
    torch.save({"net": net.state_dict()}, tmp_path / "init.pt")
    small = dict(num_envs=1, num_steps=2, num_workers=0, max_episode_length=8, num_minibatches=1, net_blocks=1,
                 eval_every=0, init_from=str(tmp_path / "init.pt"))
    cfg = TrainConfig(net_channels=8, **small).validate()
    trainer = Trainer(cfg, str(tmp_path / "run"), progress=False)
    try:
        for name, value in net.state_dict().items():
            assert torch.equal(trainer.net.state_dict()[name], value), name
    finally:
        trainer.pool.close()
        trainer.logger.close()
    wrong = TrainConfig(net_channels=16, **small).validate()
    with pytest.raises(ValueError, match="does not fit"):
        Trainer(wrong, str(tmp_path / "run2"), progress=False)


def test_a_dagger_game_is_played_by_the_policy_and_labelled_by_the_heuristic(tmp_path, samples):
    from magma_policy.export import export_untrained

    path = str(tmp_path / "policy.onnx")
    export_untrained(path, seed=1)
    played = imitation.record_game((3, True, 4, 60, path))
    assert played
    for s in played:
        assert s.action_mask[np.arange(len(s.labels)), s.labels].all()
    # Same seed, same placement: an untrained policy drives the robots elsewhere than the heuristic does.
    assert any(not np.array_equal(a.unit_pos, b.unit_pos) for a, b in zip(played, samples))


def test_a_dagger_game_with_heuristic_share_one_is_the_heuristic_game(tmp_path, samples):
    from magma_policy.export import export_untrained

    path = str(tmp_path / "policy.onnx")
    export_untrained(path, seed=1)
    mixed = imitation.record_game((3, True, 4, 60, path, 1.0))
    assert len(mixed) == len(samples)
    for a, b in zip(mixed, samples):
        assert np.array_equal(a.unit_pos, b.unit_pos) and np.array_equal(a.labels, b.labels)


def test_recall_by_action_weights_up_to_the_accuracy(samples):
    torch.manual_seed(0)
    net = make_network(TrainConfig(net_channels=8, net_blocks=1))
    net.eval()
    imitation.fit(net, samples, samples, epochs=2, lr=3e-3, batch=4, seed=0, log=lambda _m: None)
    recall = imitation.recall_by_action(net, samples)
    labels = np.concatenate([s.labels for s in samples])
    counts = np.bincount(labels, minlength=9)
    from magma_policy.actions import ACTION_NAMES

    assert set(recall) == {ACTION_NAMES[i] for i in np.nonzero(counts)[0]}
    assert all(0.0 <= r <= 1.0 for r in recall.values())
    weighted = sum(recall[ACTION_NAMES[i]] * counts[i] for i in np.nonzero(counts)[0]) / counts.sum()
    assert weighted == pytest.approx(imitation.accuracy(net, samples)[1], abs=1e-9)


def test_a_missing_init_file_is_reported_before_any_game_is_recorded(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(imitation, "record", lambda *a, **k: pytest.fail("recorded games before checking"))
    with pytest.raises(SystemExit) as stop:
        imitation.main(["--run-dir", str(tmp_path / "run"), "--init-from", str(tmp_path / "missing.pt")])
    assert stop.value.code == 2
    assert "missing.pt" in capsys.readouterr().err
    small = make_network(TrainConfig(net_channels=8, net_blocks=1))
    torch.save({"net": small.state_dict()}, tmp_path / "small.pt")
    with pytest.raises(SystemExit):
        imitation.main(["--run-dir", str(tmp_path / "run"), "--init-from", str(tmp_path / "small.pt"),
                        "--net-channels", "16", "--net-blocks", "1"])
    assert "does not fit a 16-channel 1-block network" in capsys.readouterr().err


def test_heavy_weight_scales_the_heavies_share_of_the_loss(samples):
    torch.manual_seed(0)
    net = make_network(TrainConfig(net_channels=8, net_blocks=1))
    net.eval()
    with torch.no_grad():
        logits, labels, heavy = imitation.logits_and_labels(net, samples)
        per_robot = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
        assert 0 < int(heavy.sum()) < len(heavy)  # both kinds are in the recorded games
        for weight in (1.0, 4.0):
            loss, _, _ = imitation.batch_loss(net, samples, heavy_weight=weight)
            w = torch.where(heavy, torch.tensor(weight), torch.tensor(1.0))
            assert float(loss) == pytest.approx(float((per_robot * w).sum() / w.sum()), rel=1e-5)
