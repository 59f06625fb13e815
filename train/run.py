"""M-PPO with trajectory separation for Lux AI Season 2: `python train/run.py --preset basic`.

Read top to bottom: config -> env pool -> network (train/model.py) -> for each update: rollout (one batched
forward per env step, train/rollout.py), GAE per trajectory and PPO epochs (train/ppo.py), logging, evaluation,
checkpoint -> ONNX export (train/export.py).
`--resume RUN_DIR` continues a run exactly; `--export RUN_DIR` only exports its latest checkpoint.
"""
from __future__ import annotations

import copy
import os
import random
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import torch

from train import checkpoint
from train.config import TrainConfig, config_from_args
from train.export import export_checkpoint
from train.logger import RunLogger
from train.model import anchor_network, load_weights, seed_everything, training_network
from train.opponents import HEURISTIC, OpponentPool
from train.ppo import NonFiniteLoss, RolloutStorage, actor_lr_scale, make_optimizer, phase, ppo_update, set_lr
from train.rollout import act, evaluate_games
from train.separation import switches_from
from train.teacher import load_or_record
from train.workers import EnvPool, SeatObs, learning_seats_per_env, make_pool, n_keys, seats_per_env


def flatten(obs_by_env: Sequence[Sequence[SeatObs]]) -> List[SeatObs]:
    return [o for env_obs in obs_by_env for o in env_obs]


def merge_outputs(outs: List[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """Policy outputs of consecutive groups of observations, as if from one forward pass."""
    if len(outs) == 1:
        return outs[0]
    return {k: np.concatenate([o[k] for o in outs]) for k in ("actions", "logprob", "unit_value", "global_value")}


class StopRequested(Exception):
    pass


class Trainer:
    def __init__(self, cfg: TrainConfig, run_dir: str, resume: bool = False, progress: bool = True,
                 teacher: Optional[Sequence[Any]] = None) -> None:
        """`teacher`: the teacher term's samples (train.imitation.Sample) instead of the run's recorded ones."""
        self.cfg = cfg
        self.run_dir = run_dir
        ckpt = checkpoint.load_latest(run_dir) if resume else None
        os.makedirs(run_dir, exist_ok=True)
        with open(os.path.join(run_dir, "config.json"), "w") as f:
            f.write(cfg.to_json())
        torch.set_num_threads(cfg.torch_threads)
        self.device = torch.device(cfg.device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device cuda requested but torch sees no CUDA device")
        self.generator = seed_everything(cfg.seed)
        self.switches = switches_from(cfg)
        self.seats = [seats_per_env(cfg)] * cfg.num_envs
        self.net = training_network(cfg, self.device)
        if ckpt is None and cfg.init_from:
            load_weights(self.net, cfg, cfg.init_from, "init_from")
        self.anchor = anchor_network(cfg, self.device)
        # The teacher's recorded games: played once, kept in the run directory (a resume reads them back).
        self.teacher = teacher
        if self.teacher is None and cfg.teacher_coef > 0:
            self.teacher = load_or_record(cfg, run_dir)
        # opponent=pool: the start policy is the network as it is now, before any update.
        self.opponents = (OpponentPool(self.net.state_dict(), cfg.opponent_pool, cfg.pool_rate, cfg.pool_floor)
                          if cfg.opponent == "pool" else None)
        self.update = 0
        self.global_step = 0
        self.pool: EnvPool = make_pool(cfg)
        if ckpt is not None:
            self.obs: List[SeatObs] = ckpt["obs"]
        else:
            self.obs = flatten(self.pool.reset())
        self.optimizer = make_optimizer(self.net, cfg, self.obs[0])
        if ckpt is not None:
            self.net.load_state_dict(ckpt["net"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.update, self.global_step = int(ckpt["update"]), int(ckpt["global_step"])
            checkpoint.set_rng_state(ckpt["rng"], self.generator)
            self.pool.restore(ckpt["pool"])
            if self.opponents is not None:
                self.opponents.load_state_dict(ckpt["opponents"])
        elif self.opponents is not None:
            self.opponents.start_games(cfg.num_envs, self.generator)
        self.opponent_nets: Dict[str, torch.nn.Module] = {}  # opponent=pool: networks of the pool's policies
        self.logger = RunLogger(run_dir, cfg.num_updates * cfg.batch_size, self.global_step, progress)
        self.opponent_net: Optional[torch.nn.Module] = None
        self.stop = False
        self.last_state: Optional[Dict[str, Any]] = None
        self.last_saved = -1

    # -- signals and checkpoints -----------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.stop = True
        self.logger.write("signal %d: saving a checkpoint and stopping" % signum)

    def state(self) -> Dict[str, Any]:
        """Everything needed to resume from the current update boundary."""
        return {
            "update": self.update, "global_step": self.global_step,
            "net": copy.deepcopy(self.net.state_dict()), "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "rng": checkpoint.rng_state(self.generator), "pool": self.pool.snapshot(), "obs": list(self.obs),
            "config": self.cfg.to_json(), "phase": phase(self.cfg, self.update),
            "opponents": self.opponents.state_dict() if self.opponents is not None else None,
        }

    def save(self) -> None:
        if self.last_state is not None and self.last_saved != self.last_state["update"]:
            checkpoint.save(self.run_dir, self.last_state, self.cfg.keep_checkpoints)
            self.last_saved = self.last_state["update"]

    # -- one update ----------------------------------------------------------------------------------------

    def collect(self) -> Dict[str, float]:
        """One rollout of num_steps env steps in every env, then GAE per trajectory; returns figures.

        Env groups (one per worker) are pipelined: while one group's games step, the learner chooses the next
        group's actions. Each group's actions come from one batched forward pass.
        """
        cfg = self.cfg
        storage = RolloutStorage(cfg.num_steps, learning_seats_per_env(cfg) * cfg.num_envs, n_keys(cfg))
        terms: Dict[str, float] = {}
        episodes: List[Dict[str, float]] = []
        self._pick_opponent()
        seats = self.seats[0]
        groups = self.pool.groups()
        spans = [slice(envs[0] * seats, (envs[-1] + 1) * seats) for envs in groups]
        pending: Dict[int, Any] = {}

        def launch(g: int) -> None:
            obs = self.obs[spans[g]]
            learning = [o.learning for o in obs]
            learn_obs = [o for o in obs if o.learning]
            out = act(self.net, learn_obs, self.device, greedy=False, generator=self.generator,
                      temperature=self.cfg.policy_temperature)
            self.pool.send(g, self._seat_actions(out["actions"], obs, learning, groups[g], seats))
            pending[g] = (learning, learn_obs, out)

        start = time.perf_counter()
        if self.stop:
            raise StopRequested()
        for g in range(len(groups)):
            launch(g)
        for t in range(cfg.num_steps):
            step_obs: List[SeatObs] = []
            step_outs, step_rewards, step_ended = [], [], []
            for g in range(len(groups)):
                results = self.pool.recv(g)
                learning, learn_obs, out = pending.pop(g)
                rewards = [r for res in results for r in res.rewards]
                ended = [res.ended for res in results for _ in range(seats)]
                step_obs += learn_obs
                step_outs.append(out)
                step_rewards += [r for r, k in zip(rewards, learning) if k]
                step_ended += [e for e, k in zip(ended, learning) if k]
                self.obs[spans[g]] = flatten([res.obs for res in results])
                for env, res in zip(groups[g], results):
                    for k, v in res.terms.items():
                        terms[k] = terms.get(k, 0.0) + v
                    if res.episode is not None:
                        episodes.append(res.episode)
                    if self.opponents is not None and res.ended:
                        # Before this env's next actions are chosen: its new game's opponent.
                        self.opponents.game_over(env, res.episode["learner_result"], self.generator)
                if t + 1 < cfg.num_steps:
                    if self.stop:
                        raise StopRequested()
                    launch(g)
            storage.add(step_obs, merge_outputs(step_outs), step_rewards, step_ended)
            self.global_step += cfg.num_envs
            self.logger.advance(cfg.num_envs)
        rollout_time = time.perf_counter() - start
        learn_obs = [o for o in self.obs if o.learning]
        next_out = act(self.net, learn_obs, self.device, greedy=True)
        self.batch, figures = storage.finish(learn_obs, next_out, cfg.gamma, cfg.gae_lambda, self.switches,
                                             self.device)
        figures["charts/rollout_SPS"] = cfg.batch_size / rollout_time
        for k, v in terms.items():
            figures["rewards/" + k] = v / cfg.num_envs  # per env over the rollout
        if episodes:
            renamed = {"finished": "charts/finished_rate", "episode_length": "charts/episode_length"}
            for k in episodes[0]:
                name = renamed.get(k, "game/" + k)
                figures[name] = float(np.mean([ep[k] for ep in episodes]))
            figures["charts/episodes"] = float(len(episodes))
        return figures

    def _pick_opponent(self) -> None:
        """opponent=checkpoints: the other seat plays one of the newest checkpoints (or the current network
        before the first one), drawn once per rollout."""
        if self.cfg.opponent != "checkpoints":
            return
        if self.opponent_net is None:
            self.opponent_net = training_network(self.cfg, self.device)
        paths = checkpoint.list_checkpoints(self.run_dir)[-self.cfg.opponent_pool:]
        if paths:
            self.opponent_net.load_state_dict(checkpoint.load(random.choice(paths))["net"])
        else:
            self.opponent_net.load_state_dict(self.net.state_dict())

    def _opponent_net(self, name: str) -> torch.nn.Module:
        """The network of a frozen opponent: opponent=checkpoints' drawn checkpoint, or a pool policy's."""
        if self.opponents is None:
            return self.opponent_net
        if name not in self.opponent_nets:
            net = training_network(self.cfg, self.device)
            net.load_state_dict(self.opponents.get(name).weights)
            self.opponent_nets[name] = net
        return self.opponent_nets[name]

    def _seat_actions(self, learner_actions: np.ndarray, obs: List[SeatObs], learning: List[bool],
                      envs: Sequence[int], seats: int) -> List[List[Optional[np.ndarray]]]:
        """Per env of `envs`, per seat: the learner's actions, a frozen opponent network's where a seat is not
        learning, or None where the opponent pool's heuristic controller plays it (the worker then asks it)."""
        chosen: List[Optional[np.ndarray]] = [None] * len(obs)
        by_opponent: Dict[str, List[int]] = {}  # one batched forward per opponent network
        start = 0
        for i, (o, k) in enumerate(zip(obs, learning)):
            if k:
                chosen[i] = learner_actions[start:start + len(o.keys)]
                start += len(o.keys)
                continue
            name = self.opponents.env_opponent[envs[i // seats]] if self.opponents is not None else "checkpoint"
            if name != HEURISTIC:
                by_opponent.setdefault(name, []).append(i)
        for name in sorted(by_opponent):
            index = by_opponent[name]
            acts = act(self._opponent_net(name), [obs[i] for i in index], self.device, greedy=False,
                       generator=self.generator, temperature=self.cfg.policy_temperature)["actions"]
            bounds = np.cumsum([0] + [len(obs[i].keys) for i in index])
            for j, i in enumerate(index):
                chosen[i] = acts[bounds[j]:bounds[j + 1]]
        return [chosen[e * seats:(e + 1) * seats] for e in range(len(envs))]

    def _after_update(self, figures: Dict[str, float]) -> None:
        """opponent=pool: a snapshot of the learner joins every pool_snapshot_every updates (none while the policy
        is frozen: it would be the start policy again); networks of policies that left the pool are dropped."""
        if self.opponents is None:
            return
        cfg = self.cfg
        if self.update > cfg.value_warmup_updates and self.update % cfg.pool_snapshot_every == 0:
            self.opponents.add_snapshot("update_%d" % self.update, self.net.state_dict())
        names = {e.name for e in self.opponents.entries}
        self.opponent_nets = {k: v for k, v in self.opponent_nets.items() if k in names}
        figures.update(self.opponents.figures())

    def evaluate(self) -> Dict[str, float]:
        return play_evaluation(self.net, self.cfg, self.device)

    def train(self) -> Dict[str, float]:
        cfg = self.cfg
        handlers = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        if cfg.eval_every > 0:
            evaluation = "eval every %d updates on %d games (seeds %s, %s self-play, %d-step games)" % (
                cfg.eval_every, len(cfg.eval_seeds), cfg.eval_seeds, "greedy" if cfg.eval_greedy else "sampled",
                cfg.eval_episode_length)
        else:
            evaluation = "no evaluation games"
        self.logger.write("run %s: %d updates of %d env steps, %s, opponent %s"
                          % (self.run_dir, cfg.num_updates, cfg.batch_size, evaluation, cfg.opponent))
        self.last_state = self.state()
        last: Dict[str, float] = {}
        run_start, run_steps = time.perf_counter(), 0
        try:
            while self.update < cfg.num_updates:
                self.update += 1
                update_start = time.perf_counter()
                lr = set_lr(self.optimizer, cfg, self.update, cfg.num_updates)
                figures = self.collect()
                learn_start = time.perf_counter()
                torch.set_num_threads(cfg.update_threads)
                try:
                    figures.update(ppo_update(self.net, self.optimizer, self.batch, cfg, self.switches,
                                              self.generator, self.update, self.anchor, self.teacher))
                finally:
                    torch.set_num_threads(cfg.torch_threads)
                self._after_update(figures)
                figures["charts/learning_rate"] = lr
                figures["charts/actor_lr_scale"] = actor_lr_scale(cfg, self.update)
                figures["charts/update_seconds"] = time.perf_counter() - learn_start
                run_steps += cfg.batch_size
                figures["charts/SPS"] = run_steps / (time.perf_counter() - run_start)
                figures["charts/update"] = float(self.update)
                if cfg.eval_every and (self.update % cfg.eval_every == 0 or self.update == cfg.num_updates):
                    figures.update(self.evaluate())
                figures["charts/wall_seconds"] = time.perf_counter() - update_start
                self.logger.log(self.global_step, figures)
                self.logger.advance(0, figures["charts/SPS"])
                self.logger.write(summary_line(self.update, self.global_step, figures))
                last = figures
                self.last_state = self.state()
                if self.update % cfg.checkpoint_every == 0 or self.update == cfg.num_updates:
                    self.save()
        except StopRequested:
            self.save()
            self.logger.write("stopped at update %d (global step %d); resume with --resume %s"
                              % (self.last_state["update"], self.last_state["global_step"], self.run_dir))
        except NonFiniteLoss as exc:
            self.logger.write("stopping: non-finite loss at %s" % exc)
            raise
        finally:
            for s, h in handlers.items():
                signal.signal(s, h)
            self.pool.close()
            self.logger.close()
        return last


def summary_line(update: int, step: int, f: Dict[str, float]) -> str:
    parts = ["update %d" % update, "step %d" % step]
    for name in ("charts/SPS", "charts/rollout_SPS", "losses/policy_loss", "losses/value_loss", "losses/entropy",
                 "losses/approx_kl", "game/ice_transferred", "eval/finished_rate", "eval/ice_transferred"):
        if name in f:
            parts.append("%s %.4g" % (name.replace("charts/", "").replace("losses/", ""), f[name]))
    return " | ".join(parts)


def play_evaluation(net: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> Dict[str, float]:
    """The evaluation games (self-play on cfg.eval_seeds, greedy or sampled) and their figures."""
    pool = make_pool(cfg, eval_seeds=cfg.eval_seeds)
    try:
        start = time.perf_counter()
        figures = evaluate_games(net, pool, device, greedy=cfg.eval_greedy, temperature=cfg.policy_temperature)
        figures["eval/seconds"] = time.perf_counter() - start
        return figures
    finally:
        pool.close()


def evaluate_run(run_dir: str, cfg: TrainConfig) -> Dict[str, float]:
    """A run's evaluation games played again with its latest checkpoint (`cfg`: its config, maybe overridden)."""
    state = checkpoint.load_latest(run_dir)
    seed_everything(cfg.seed)  # sampled evaluations repeat exactly
    torch.set_num_threads(cfg.update_threads)
    device = torch.device(cfg.device)
    net = training_network(cfg, device)
    net.load_state_dict(state["net"])
    return dict(play_evaluation(net, cfg, device), global_step=float(state["global_step"]))


def default_run_dir(cfg: TrainConfig) -> str:
    return os.path.join("runs", "%s-%d-%s" % (cfg.exp_name, cfg.seed, time.strftime("%Y%m%d-%H%M%S")))


def main(argv: Optional[Sequence[str]] = None) -> int:
    import json

    parser_args = list(sys.argv[1:] if argv is None else argv)
    try:
        probe = config_from_args(parser_args)[1]
        if probe.export:
            path = export_checkpoint(probe.export, probe.export_to)
            print("exported %s" % path)
            return 0
        base = None
        if probe.resume or probe.evaluate:
            with open(os.path.join(probe.resume or probe.evaluate, "config.json")) as f:
                base = json.load(f)
        cfg, args = config_from_args(parser_args, base)
        if args.evaluate:
            figures = evaluate_run(args.evaluate, cfg)
            print(json.dumps({k: round(v, 4) for k, v in figures.items()}, indent=2))
            return 0
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    run_dir = args.resume or args.run_dir or default_run_dir(cfg)
    try:
        trainer = Trainer(cfg, run_dir, resume=bool(args.resume), progress=not args.no_progress)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    figures = trainer.train()
    if trainer.update >= cfg.num_updates and cfg.export_onnx:
        path = export_checkpoint(run_dir, cfg.export_to, figures)
        print("exported %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
