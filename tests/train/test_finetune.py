"""The fine-tuning pieces on a stand-in policy: the value-only phase, the actor's learning-rate ramp, the teacher
term, the opponent pool and their state across a resume."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch

from tests.train import stub_policy
from tests.train.test_run import LOSSES, rows, tiny
from train import checkpoint
from train.config import PRESETS, TrainConfig
from train.imitation import Sample
from train.opponents import HEURISTIC, START, OpponentPool
from train.ppo import ACTOR_GROUP, actor_lr_scale, minibatch_loss, phase, ppo_update, set_lr
from train.rollout import forward
from train.run import Trainer


@pytest.fixture(autouse=True)
def stub(monkeypatch):
    stub_policy.install(monkeypatch)


def outputs(trainer: Trainer):
    """(logits, unit values) of the trainer's network on its last rollout's robots."""
    b = trainer.batch
    inputs = dict(map_planes=b.map_planes.float().numpy(), global_features=b.global_features.numpy(),
                  unit_batch=b.unit_obs.numpy(), unit_pos=b.unit_pos.numpy(), unit_features=b.unit_features.numpy(),
                  action_mask=b.action_mask.numpy())
    with torch.no_grad():
        logits, unit_value, _ = forward(trainer.net, inputs, trainer.device)
    return logits, unit_value


def teacher_samples(trainer: Trainer, n: int = 6):
    """Views of the trainer's rollout labelled with one fixed action per robot (a stand-in teacher)."""
    views = [o for o in trainer.obs if len(o.keys)]
    return [Sample(o.map_planes, o.global_features, o.unit_pos, o.unit_features, o.action_mask,
                   np.zeros(len(o.keys), dtype=np.int64)) for o in views[:n]]


def close(trainer: Trainer) -> None:
    trainer.pool.close()
    trainer.logger.close()


def test_the_finetune_preset_states_every_piece():
    cfg = TrainConfig.from_dict(PRESETS["finetune"])
    assert cfg.value_warmup_updates > 0 and cfg.actor_lr_ramp_updates > 0
    assert cfg.batch_size >= 32_768 and cfg.update_epochs == 2 and cfg.clip_coef == 0.1 and cfg.target_kl == 0.02
    assert cfg.anchor_coef > 0 and cfg.teacher_coef > 0 and cfg.opponent == "pool"
    assert cfg.reward_result == 1.0 and cfg.reward_factory_advantage == 0.3
    assert cfg.reward_lichen_advantage > 0 and cfg.reward_robot_advantage > 0
    # Only zero-sum terms pay: the shaping terms of the other presets are off, every robot gets the team reward.
    assert cfg.reward_own_weight == 0.0 and cfg.reward_ice_delivered == cfg.reward_death == cfg.reward_factory_lost == 0
    assert all(PRESETS[name].get("midgame_share", 0.0) == 0.0 for name in PRESETS)


def test_actor_learning_rate_is_zero_in_the_value_phase_then_ramps_linearly():
    cfg = tiny(value_warmup_updates=2, actor_lr_ramp_updates=4, anneal_lr=False)
    assert [actor_lr_scale(cfg, u) for u in range(1, 8)] == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert [phase(cfg, u) for u in (1, 2, 3, 6)] == ["value", "value", "ramp", "full"]
    net = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam([{"params": [net.weight], "name": ACTOR_GROUP}, {"params": [net.bias]}])
    assert set_lr(optimizer, cfg, 4, 10) == cfg.learning_rate
    assert [g["lr"] for g in optimizer.param_groups] == [0.5 * cfg.learning_rate, cfg.learning_rate]


def test_the_value_only_phase_leaves_the_policy_outputs_unchanged(tmp_path):
    """Two value-only updates with the anchor and the teacher on: the logits are exactly those of the start, the
    values moved; the first update of the ramp moves the policy, at part of the learning rate."""
    init = str(tmp_path / "init.pt")
    probe = Trainer(tiny(num_workers=0), str(tmp_path / "probe"), progress=False)
    torch.save({"net": probe.net.state_dict()}, init)
    close(probe)
    cfg = tiny(num_workers=0, init_from=init, anchor_coef=0.5, teacher_coef=1.0, value_warmup_updates=2,
               actor_lr_ramp_updates=2, update_epochs=4, learning_rate=3e-3)
    trainer = Trainer(cfg, str(tmp_path / "run"), progress=False, teacher=[])
    try:
        assert [g["name"] for g in trainer.optimizer.param_groups] == [ACTOR_GROUP, "value"]
        trainer.collect()
        trainer.teacher = teacher_samples(trainer)
        assert trainer.teacher
        logits0, values0 = outputs(trainer)
        for update in (1, 2):
            set_lr(trainer.optimizer, cfg, update, cfg.num_updates)
            figures = ppo_update(trainer.net, trainer.optimizer, trainer.batch, cfg, trainer.switches,
                                 trainer.generator, update, trainer.anchor, trainer.teacher)
            assert "losses/teacher_ce" not in figures  # no policy term in the value phase
        logits, values = outputs(trainer)
        assert torch.equal(logits, logits0)
        assert not torch.equal(values, values0)
        lr = set_lr(trainer.optimizer, cfg, 3, cfg.num_updates)
        assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * lr)
        figures = ppo_update(trainer.net, trainer.optimizer, trainer.batch, cfg, trainer.switches,
                             trainer.generator, 3, trainer.anchor, trainer.teacher)
        assert figures["losses/teacher_ce"] > 0 and "losses/anchor_kl" in figures
        assert not torch.equal(outputs(trainer)[0], logits0)
    finally:
        close(trainer)


def test_the_teacher_term_pulls_the_policy_toward_the_teachers_labels(tmp_path):
    cfg = tiny(num_workers=0, teacher_coef=5.0, update_epochs=4, learning_rate=3e-3)
    trainer = Trainer(cfg, str(tmp_path / "run"), progress=False, teacher=[])
    try:
        trainer.collect()
        samples = teacher_samples(trainer)
        every = torch.arange(trainer.batch.n_obs)
        from train.ppo import teacher_cross_entropy

        before = float(teacher_cross_entropy(trainer.net, samples, cfg).detach())
        for update in (1, 2):
            ppo_update(trainer.net, trainer.optimizer, trainer.batch, cfg, trainer.switches, trainer.generator,
                       update, None, samples)
        assert float(teacher_cross_entropy(trainer.net, samples, cfg).detach()) < before
        assert minibatch_loss(trainer.net, trainer.batch, every, cfg, trainer.switches).teacher_ce is None
    finally:
        close(trainer)


def test_the_pool_draws_the_opponents_that_still_beat_the_learner_most():
    pool = OpponentPool({"w": torch.zeros(1)}, size=2, rate=0.5, floor=0.1)
    generator = torch.Generator().manual_seed(0)
    pool.start_games(2, generator)
    assert [e.name for e in pool.entries] == [HEURISTIC, START]
    pool.env_opponent = [HEURISTIC, START]
    pool.game_over(0, learner_result=0.0, generator=generator)  # the heuristic beat the learner
    pool.game_over(1, learner_result=1.0, generator=generator)  # the learner beat the start policy
    assert pool.get(HEURISTIC).beats == 0.75 and pool.get(START).beats == 0.25
    weights = pool.draw_weights()
    assert weights[0] == 3 * weights[1]
    for _ in range(6):  # the start policy keeps losing: its weight falls to the floor, never to 0
        pool.env_opponent[1] = START
        pool.game_over(1, learner_result=1.0, generator=generator)
    assert pool.draw_weights()[1] == pytest.approx(0.1)
    # Snapshots: the oldest beyond `size` stops being drawn, but finishes the game it plays.
    for u in (1, 2):
        pool.add_snapshot("update_%d" % u, {"w": torch.full((1,), float(u))})
    pool.env_opponent[0] = "update_1"
    pool.add_snapshot("update_3", {"w": torch.full((1,), 3.0)})
    assert not pool.get("update_1").active and pool.draw_weights()[pool.entries.index(pool.get("update_1"))] == 0
    pool.game_over(0, learner_result=0.5, generator=generator)
    assert "update_1" not in [e.name for e in pool.entries]
    assert [e.name for e in pool.entries] == [HEURISTIC, START, "update_2", "update_3"]


def pool_config(**kw) -> TrainConfig:
    values = dict(opponent="pool", opponent_pool=2, pool_snapshot_every=1, pool_rate=0.5, value_warmup_updates=1,
                  actor_lr_ramp_updates=1, num_envs=4, total_timesteps=128)
    values.update(kw)
    return tiny(**values)


def test_pool_games_are_played_by_every_kind_of_opponent(tmp_path):
    trainer = Trainer(pool_config(num_workers=0), str(tmp_path / "run"), progress=False)
    seen = set()
    try:
        for update in range(1, 4):
            trainer.update = update
            trainer.collect()
            seen.update(trainer.opponents.env_opponent)
            trainer._after_update({})
        names = [e.name for e in trainer.opponents.entries]
        assert names[:2] == [HEURISTIC, START] and names[2:] == ["update_2", "update_3"]  # none in the value phase
        assert trainer.opponents.figures()["pool/games"] > 0
    finally:
        close(trainer)
    assert HEURISTIC in seen and len(seen) >= 2


def test_a_resumed_pool_run_continues_exactly_with_its_phase_and_pool(tmp_path):
    """The checkpoint after update 2 holds the phase, the pool's entries and averages and each env's opponent;
    a run resumed from it repeats the uninterrupted run's updates 3 and 4."""
    full = str(tmp_path / "full")
    done = Trainer(pool_config(), full, progress=False)
    done.train()
    reference = rows(full)
    assert len(reference) == 4
    saved = checkpoint.load(os.path.join(full, checkpoint.PATTERN % 2))
    assert saved["phase"] == "full" and saved["update"] == 2
    assert [e.name for e in saved["opponents"]["entries"]][:3] == [HEURISTIC, START, "update_2"]
    resumed = str(tmp_path / "resumed")
    os.makedirs(resumed)
    shutil.copy(os.path.join(full, checkpoint.PATTERN % 2), resumed)
    trainer = Trainer(pool_config(), resumed, resume=True, progress=False)
    assert trainer.opponents.env_opponent == saved["opponents"]["env_opponent"]
    assert [(e.name, e.beats, e.games) for e in trainer.opponents.entries] == [
        (e.name, e.beats, e.games) for e in saved["opponents"]["entries"]]
    trainer.train()
    again = rows(resumed)
    for ref, new in zip(reference[2:], again):
        for name in LOSSES + ("pool/heuristic_beats", "pool/start_beats", "pool/games"):
            assert float(new[name]) == float(ref[name]), name
    assert [(e.name, e.beats) for e in trainer.opponents.entries] == [(e.name, e.beats) for e in done.opponents.entries]
