"""The training loop end to end on a stand-in policy: rollouts in workers, checkpoints, exact resume, stops."""
from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import signal

import pytest
import torch

from tests.train import stub_policy
from train import checkpoint
from train.config import TrainConfig
from train.model import anchor_network
from train.ppo import NonFiniteLoss, minibatch_loss, ppo_update
from train.run import Trainer, main

LOSSES = ("losses/policy_loss", "losses/value_loss", "losses/entropy", "losses/approx_kl")


@pytest.fixture(autouse=True)
def stub(monkeypatch):
    stub_policy.install(monkeypatch)


def tiny(**kw) -> TrainConfig:
    values = dict(total_timesteps=48, num_envs=2, num_steps=8, num_workers=2, max_episode_length=12,
                  num_minibatches=2, update_epochs=2, eval_every=0, export_onnx=False, seed=3)
    values.update(kw)
    return TrainConfig(**values).validate()


def rows(run_dir):
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        return list(csv.DictReader(f))


def test_resume_reproduces_next_update_exactly(tmp_path):
    full = str(tmp_path / "full")
    Trainer(tiny(), full, progress=False).train()
    reference = rows(full)
    assert [int(float(r["global_step"])) for r in reference] == [16, 32, 48]
    # Resume from the checkpoint after update 1 (episodes of 12 steps end and restart inside the rollouts).
    resumed = str(tmp_path / "resumed")
    os.makedirs(resumed)
    shutil.copy(os.path.join(full, checkpoint.PATTERN % 1), resumed)
    trainer = Trainer(tiny(), resumed, resume=True, progress=False)
    assert trainer.update == 1 and trainer.global_step == 16
    trainer.train()
    again = rows(resumed)
    assert [int(float(r["global_step"])) for r in again] == [32, 48]
    for ref, new in zip(reference[1:], again):
        for name in LOSSES:
            assert float(new[name]) == float(ref[name]), name


def test_stop_request_saves_checkpoint_and_resumes_exactly(tmp_path):
    reference = str(tmp_path / "reference")
    Trainer(tiny(), reference, progress=False).train()
    run_dir = str(tmp_path / "run")
    # Checkpoints every 5 updates: the one after update 2 can only come from the stop.
    trainer = Trainer(tiny(checkpoint_every=5), run_dir, progress=False)
    real_recv = trainer.pool.recv
    calls = []

    def recv_then_signal(group):
        calls.append(trainer.update)
        if calls.count(3) == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of update 3's rollout
        return real_recv(group)

    trainer.pool.recv = recv_then_signal
    trainer.train()
    assert trainer.update == 3 and calls.count(3) < 16  # update 3 was cut short
    saved = checkpoint.load_latest(run_dir)
    assert saved["update"] == 2 and saved["global_step"] == 32
    Trainer(tiny(checkpoint_every=5), run_dir, resume=True, progress=False).train()
    last, expected = rows(run_dir)[-1], rows(reference)[-1]
    assert float(last["global_step"]) == 48
    for name in LOSSES:
        assert float(last[name]) == float(expected[name]), name


def test_main_rejects_bad_values_and_missing_run(tmp_path, capsys):
    assert main(["--preset", "smoke", "--num-envs", "0"]) == 2
    assert "num_envs must be >= 1" in capsys.readouterr().err
    assert main(["--resume", str(tmp_path / "nothing")]) == 2
    assert "nothing" in capsys.readouterr().err


def test_global_and_grouped_modes_train(tmp_path):
    for i, kw in enumerate([dict(mode="global"), dict(mode="grouped", grouping="factory"),
                            dict(mode="grouped", grouping="random", n_groups=4),
                            dict(opponent="heuristic", separate_logprob=False, reward_own_weight=0.5),
                            dict(opponent="checkpoints", total_timesteps=32)]):
        run_dir = str(tmp_path / ("m%d" % i))
        kw.setdefault("total_timesteps", 16)
        figures = Trainer(tiny(num_workers=0, **kw), run_dir, progress=False).train()
        assert figures["rollout/active_entries"] > 0
        for name in LOSSES:
            assert figures[name] == figures[name], name  # finite, not NaN


def test_non_finite_loss_names_update_and_term(tmp_path):
    trainer = Trainer(tiny(num_workers=0), str(tmp_path / "run"), progress=False)
    try:
        trainer.collect()
        trainer.batch.returns[:] = float("nan")
        with pytest.raises(NonFiniteLoss, match="update 7, epoch 0: value_loss is nan"):
            ppo_update(trainer.net, trainer.optimizer, trainer.batch, trainer.cfg, trainer.switches,
                       trainer.generator, update=7)
    finally:
        trainer.pool.close()
        trainer.logger.close()


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_ratio_is_one_before_the_first_step(tmp_path, temperature):
    """The update re-evaluates the rollout's own actions with the policy that chose them, tempered alike."""
    trainer = Trainer(tiny(num_workers=0, policy_temperature=temperature), str(tmp_path / "run"), progress=False)
    try:
        trainer.collect()
        batch = trainer.batch
        terms = minibatch_loss(trainer.net, batch, torch.arange(batch.n_obs), trainer.cfg, trainer.switches)
        assert abs(float(terms.approx_kl)) < 1e-6 and float(terms.clipfrac) == 0.0
        assert len(batch.advantages) > 0
        if temperature != 1.0:  # the same actions under the untempered network are another distribution
            untempered = dataclasses.replace(trainer.cfg, policy_temperature=1.0)
            other = minibatch_loss(trainer.net, batch, torch.arange(batch.n_obs), untempered, trainer.switches)
            assert abs(float(other.approx_kl)) > 1e-4
    finally:
        trainer.pool.close()
        trainer.logger.close()


def test_value_warmup_keeps_the_policy_and_fits_the_values(tmp_path):
    trainer = Trainer(tiny(num_workers=0, value_warmup_updates=1, update_epochs=4), str(tmp_path / "run"),
                      progress=False)
    try:
        trainer.collect()
        batch, cfg = trainer.batch, trainer.cfg
        every = torch.arange(batch.n_obs)
        before = minibatch_loss(trainer.net, batch, every, cfg, trainer.switches)
        ppo_update(trainer.net, trainer.optimizer, batch, cfg, trainer.switches, trainer.generator, update=1)
        after = minibatch_loss(trainer.net, batch, every, cfg, trainer.switches)
        assert float(after.approx_kl) == 0.0 and float(after.policy_loss) == float(before.policy_loss)
        assert float(after.value_loss) < float(before.value_loss)
        # The next update is a normal one: the policy moves.
        ppo_update(trainer.net, trainer.optimizer, batch, cfg, trainer.switches, trainer.generator, update=2)
        assert float(minibatch_loss(trainer.net, batch, every, cfg, trainer.switches).approx_kl) > 0.0
    finally:
        trainer.pool.close()
        trainer.logger.close()


def test_anchor_keeps_the_policy_near_its_start(tmp_path):
    """Same rollout, same number of updates: with a strong anchor the policy ends closer to the start policy
    than without one, and the update reports the anchor's KL."""
    init = str(tmp_path / "init.pt")
    probe = Trainer(tiny(num_workers=0, update_epochs=4), str(tmp_path / "probe"), progress=False)
    try:
        torch.save({"net": probe.net.state_dict()}, init)
    finally:
        probe.pool.close()
        probe.logger.close()

    def drift(coef: float) -> tuple:
        cfg = tiny(num_workers=0, update_epochs=4, init_from=init, anchor_coef=coef, learning_rate=3e-3)
        trainer = Trainer(cfg, str(tmp_path / ("c%s" % coef)), progress=False)
        try:
            trainer.collect()
            every = torch.arange(trainer.batch.n_obs)
            assert (trainer.anchor is None) == (coef == 0)
            # Drift is measured against the start weights whether or not the loss has the anchor term.
            start_policy = anchor_network(dataclasses.replace(cfg, anchor_coef=1.0), trainer.device)
            start = minibatch_loss(trainer.net, trainer.batch, every, cfg, trainer.switches, start_policy)
            assert float(start.anchor_kl.detach()) < 1e-6
            figures = {}
            for update in range(1, 4):
                figures = ppo_update(trainer.net, trainer.optimizer, trainer.batch, cfg, trainer.switches,
                                     trainer.generator, update, trainer.anchor)
            end = minibatch_loss(trainer.net, trainer.batch, every, cfg, trainer.switches, start_policy)
            return float(end.anchor_kl), figures
        finally:
            trainer.pool.close()
            trainer.logger.close()

    free_kl, free_figures = drift(0.0)
    anchored_kl, anchored_figures = drift(50.0)
    assert free_kl > 0.0 and anchored_kl < 0.5 * free_kl
    assert "losses/anchor_kl" in anchored_figures and "losses/anchor_kl" not in free_figures


def test_anchor_needs_weights_and_names_the_missing_file(tmp_path):
    with pytest.raises(ValueError, match="anchor_coef > 0 needs"):
        tiny(anchor_coef=0.1)
    cfg = tiny(num_workers=0, anchor_coef=0.1, anchor_from=str(tmp_path / "nothing.pt"))
    with pytest.raises(FileNotFoundError, match="anchor_from: no file .*nothing.pt"):
        Trainer(cfg, str(tmp_path / "run"), progress=False)


def test_anchor_temperature_sharpens_the_anchor(tmp_path):
    """At the start the policy is the anchor (KL 0); a colder anchor is another, sharper distribution."""
    init = str(tmp_path / "init.pt")
    cfg = tiny(num_workers=0, init_from=init, anchor_coef=1.0)
    trainer = Trainer(tiny(num_workers=0), str(tmp_path / "probe"), progress=False)
    try:
        torch.save({"net": trainer.net.state_dict()}, init)
        trainer.collect()
        every = torch.arange(trainer.batch.n_obs)
        anchor = anchor_network(cfg, trainer.device)
        same = minibatch_loss(trainer.net, trainer.batch, every, cfg, trainer.switches, anchor)
        cold_cfg = dataclasses.replace(cfg, anchor_temperature=0.25)
        cold = minibatch_loss(trainer.net, trainer.batch, every, cold_cfg, trainer.switches, anchor)
        assert float(same.anchor_kl.detach()) < 1e-6 < float(cold.anchor_kl.detach())
    finally:
        trainer.pool.close()
        trainer.logger.close()
    with pytest.raises(ValueError, match="anchor_temperature must be > 0"):
        tiny(anchor_temperature=0.0)
