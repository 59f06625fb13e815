"""Imitation warm start: the unit policy first learns to choose what the heuristic controller chooses.

    python train/imitation.py --run-dir runs/imitation                 # record games, fit, write init.pt
    python train/run.py --preset default --init-from runs/imitation/init.pt

PPO from random weights needs many games before robots dig and deliver ice reliably; starting from the
heuristic controller's behaviour (behavioural cloning) gives the policy those skills at once, and PPO can
continue from them. The warm start changes only the starting weights: the trainer is the same. The shipped
policy (weights/policy.onnx) is such an imitation policy with its DAgger rounds and no PPO after it.

Games: heuristic self-play (strategy.units drives robots, strategy.factories factories, watering allowed) on
both game configs. Every `--every`-th step of both players is recorded with the features the policy plays with
(magma_policy.features) and, per robot, the discrete action (magma_policy.actions.action_id) of the heuristic's
plan for that step (a walk: the GO action to its target tile, as the robot wanted it before collisions; see
`heuristic_labels`); a plan the policy's mask rules out is recorded as NOOP. The last game is held out.
Loss: cross-entropy of the masked logits, mean over robots; the value heads are left to PPO.

DAgger rounds: the fitted policy plays new games and the heuristic labels the states it leads to (the policy's
own mistakes, which heuristic games never show). In round k each player's step is still driven by the heuristic
with probability beta_k = dagger_beta / 2^(k-1) (DAgger's mixture policy), so early rounds, whose policy lets
factories run dry within a few hundred steps, still reach the mid and late game.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import torch

from lux.state import PLAYERS
from magma_policy.features import UNIT_FEATURES
from train.config import TrainConfig
from train.model import batch_inputs, load_init, net_forward, seed_everything, training_network

HEAVY_COLUMN = UNIT_FEATURES.index("heavy")


class GameTask(NamedTuple):
    """One game to record (a plain tuple in this order works too)."""

    seed: int
    kaggle: bool  # Kaggle config (else NeurIPS)
    every: int  # record every n-th step
    max_steps: int
    policy_path: Optional[str] = None  # a DAgger round: this policy drives the robots
    heuristic_share: float = 0.0  # ... except for this share of player steps, driven by the heuristic


@dataclass
class Sample:
    """One player's view at one step, with the heuristic's action per robot."""

    map_planes: np.ndarray  # float16 [C, W, H]
    global_features: np.ndarray  # [G]
    unit_pos: np.ndarray  # [N, 2]
    unit_features: np.ndarray  # [N, U]
    action_mask: np.ndarray  # bool [N, A]
    labels: np.ndarray  # int64 [N]


def heuristic_labels(plans: Dict[str, List[int]], unit_ids: Sequence[str], mask: np.ndarray,
                     intentions: Optional[Tuple[Dict[str, Tuple[int, int]], Dict[str, int]]] = None,
                     targets: Optional[Dict[str, List[Optional[Tuple[int, int]]]]] = None) -> np.ndarray:
    """Discrete action of each robot's plan; NOOP where the mask rules it out (or the robot has no plan).

    With the controller's `intentions()` and the features' `targets`, a robot that wanted to move is labelled
    with what it wanted before collisions were resolved (the codec resolves the policy's collisions itself):
    the GO action of its goal when the goal is its target tile of that kind, else the move it wanted.
    """
    from magma_policy.actions import GO_OF_KIND, MOVE_OF_DIRECTION, NOOP, action_id

    labels = np.array([action_id(plans.get(uid)) for uid in unit_ids], dtype=np.int64)
    if intentions is not None and targets is not None:
        goals, wanted = intentions
        for i, uid in enumerate(unit_ids):
            if uid not in wanted:
                continue
            labels[i] = MOVE_OF_DIRECTION[wanted[uid]]
            goal = goals.get(uid)
            for kind, go in GO_OF_KIND.items():
                if goal is not None and targets[kind][i] == goal and mask[i, go]:
                    labels[i] = go
                    break
    if len(labels):
        allowed = mask[np.arange(len(labels)), labels]
        labels[~allowed] = NOOP
    return labels


_RUNTIMES: Dict[str, object] = {}  # per worker process: policies loaded once


def _policy(path: str):
    from magma_policy.runtime import load_policy

    if path not in _RUNTIMES:
        _RUNTIMES[path] = load_policy(path)
    return _RUNTIMES[path]


def record_game(task: Tuple) -> List[Sample]:
    """Play one game (a GameTask, or a tuple of its leading fields) and return the recorded samples.

    Without a policy the heuristic drives the robots; with one (a DAgger round) the policy drives them
    (greedy, as the agent plays) and the heuristic labels the states the policy leads to, except that each
    player's step is driven by the heuristic with probability `heuristic_share` (0 when not given).
    """
    from magma_policy.features import encode
    from strategy.units import HeuristicUnitController
    from train.env import LuxGame

    seed, kaggle, every, max_steps, policy_path, heuristic_share = GameTask(*task)
    policy = _policy(policy_path) if policy_path else None
    coin = np.random.default_rng(seed)
    torch.set_num_threads(1)
    game = LuxGame(seed, kaggle_ratio=1.0 if kaggle else 0.0, max_episode_length=max_steps, allow_watering=True,
                   fixed_seed=seed)
    state = game.reset()
    controller = HeuristicUnitController()
    samples: List[Sample] = []
    over = False
    while not over:
        actions = {}
        for player in PLAYERS:
            plans = controller.plan(state, player)
            homes = controller.homes.update(state, player)  # the homes this plan used, for features and policy
            if state.real_env_steps % every == 0 and state.units.get(player):
                f = encode(state, player, homes)
                labels = heuristic_labels(plans, list(f.unit_ids), f.action_mask, controller.intentions(), f.targets)
                samples.append(Sample(np.asarray(f.map_planes, dtype=np.float16), f.global_features, f.unit_pos,
                                      f.unit_features, f.action_mask, labels))
            if policy is not None and coin.random() >= heuristic_share:
                actions[player] = policy.act(state, player, homes=homes)
            else:
                actions[player] = controller.act(state, player, plans) if plans else {}
        state, over = game.step(actions)
    return samples


def record(seeds: Sequence[int], kaggle_share: float, every: int, max_steps: int, workers: int,
           policy_path: Optional[str] = None, heuristic_share: float = 0.0) -> List[List[Sample]]:
    """Samples per game, games played in parallel processes (the first round(share * n) on the Kaggle config)."""
    n_kaggle = int(round(kaggle_share * len(seeds)))
    tasks = [GameTask(int(s), i < n_kaggle, every, max_steps, policy_path, heuristic_share)
             for i, s in enumerate(seeds)]
    if workers <= 1:
        return [record_game(t) for t in tasks]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pool.map(record_game, tasks, chunksize=1)


def inputs_of(samples: Sequence[Sample]) -> Dict[str, torch.Tensor]:
    """The network's inputs for the samples (train.model.batch_inputs, as tensors) and the heuristic's labels."""
    inputs = {k: torch.as_tensor(v) for k, v in batch_inputs(samples).items()}
    inputs["map_planes"] = inputs["map_planes"].float()
    inputs["labels"] = torch.as_tensor(np.concatenate([s.labels for s in samples]))
    return inputs


def logits_and_labels(net: torch.nn.Module, samples: Sequence[Sample]
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The masked action logits of every robot in the samples, the heuristic's labels, and which robots are
    heavies."""
    device = next(net.parameters()).device
    t = {k: v.to(device) for k, v in inputs_of(samples).items()}
    logits, _, _ = net_forward(net, t["map_planes"], t["global_features"], t["unit_batch"], t["unit_pos"],
                               t["unit_features"], t["action_mask"])
    return logits, t["labels"], t["unit_features"][:, HEAVY_COLUMN] > 0


def batch_loss(net: torch.nn.Module, samples: Sequence[Sample], heavy_weight: float = 1.0
               ) -> Tuple[torch.Tensor, float, int]:
    """(cross-entropy over the robots, heavies weighted `heavy_weight` times a light; correct predictions;
    robots) for a list of samples."""
    logits, labels, heavy = logits_and_labels(net, samples)
    per_robot = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    weights = 1.0 + (heavy_weight - 1.0) * heavy.float()
    loss = (per_robot * weights).sum() / weights.sum()
    correct = float((logits.argmax(dim=1) == labels).sum())
    return loss, correct, int(len(labels))


def by_map_size(samples: Sequence[Sample]) -> List[List[int]]:
    """Sample indices grouped by map size, so a minibatch never pads a small map into a large one."""
    groups: Dict[Tuple[int, int], List[int]] = {}
    for i, s in enumerate(samples):
        groups.setdefault(s.map_planes.shape[1:], []).append(i)
    return list(groups.values())


def chunks(samples: Sequence[Sample], size: int) -> Iterator[List[Sample]]:
    """Lists of up to `size` samples of one map size, each with at least one robot (for evaluation passes)."""
    for group in by_map_size(samples):
        for start in range(0, len(group), size):
            part = [samples[i] for i in group[start:start + size]]
            if sum(len(s.labels) for s in part):
                yield part


@torch.no_grad()
def recall_by_action(net: torch.nn.Module, samples: Sequence[Sample], chunk: int = 64) -> Dict[str, float]:
    """Per heuristic action: the share of its robots for which the policy's most likely action is the same
    (where imitation fails: e.g. moves toward a target the network cannot see)."""
    from magma_policy.actions import ACTION_NAMES

    hits = np.zeros(len(ACTION_NAMES))
    counts = np.zeros(len(ACTION_NAMES))
    for part in chunks(samples, chunk):
        logits, labels, _ = logits_and_labels(net, part)
        labels = labels.cpu().numpy()
        right = logits.argmax(dim=1).cpu().numpy() == labels
        counts += np.bincount(labels, minlength=len(counts))
        hits += np.bincount(labels, weights=right, minlength=len(hits))
    return {name: float(hits[i] / counts[i]) for i, name in enumerate(ACTION_NAMES) if counts[i]}


@torch.no_grad()
def accuracy(net: torch.nn.Module, samples: Sequence[Sample], chunk: int = 64) -> Tuple[float, float]:
    """(mean loss, share of robots whose most likely action is the heuristic's)."""
    total_loss, correct, n = 0.0, 0.0, 0
    for part in chunks(samples, chunk):
        loss, c, m = batch_loss(net, part)
        total_loss += float(loss) * m
        correct += c
        n += m
    return total_loss / max(n, 1), correct / max(n, 1)


def fit(net: torch.nn.Module, train: Sequence[Sample], held_out: Sequence[Sample], epochs: int, lr: float,
        batch: int, seed: int, log=print, heavy_weight: float = 1.0) -> Dict[str, float]:
    """Adam on the cross-entropy (heavies weighted `heavy_weight`), `epochs` passes of shuffled minibatches of
    `batch` samples."""
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-5)
    steps_total = epochs * sum(-(-len(g) // batch) for g in by_map_size(train))
    step = 0
    figures: Dict[str, float] = {}
    for epoch in range(epochs):
        start = time.perf_counter()
        minibatches = []
        for group in by_map_size(train):
            shuffled = rng.permutation(group).tolist()
            minibatches += [shuffled[i:i + batch] for i in range(0, len(shuffled), batch)]
        order = rng.permutation(len(minibatches))
        losses = []
        for k in order:
            idx = minibatches[k]
            part = [train[i] for i in idx]
            if not sum(len(s.labels) for s in part):
                continue
            for group in optimizer.param_groups:  # linear decay to a tenth
                group["lr"] = lr * (1.0 - 0.9 * step / max(steps_total, 1))
            loss, _, _ = batch_loss(net, part, heavy_weight)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            losses.append(float(loss.detach()))
            step += 1
        val_loss, val_acc = accuracy(net, held_out)
        figures = {"train_loss": float(np.mean(losses)) if losses else float("nan"), "held_out_loss": val_loss,
                   "held_out_accuracy": val_acc, "epoch_seconds": time.perf_counter() - start}
        log("epoch %d: train loss %.4f | held-out loss %.4f, accuracy %.3f | %.0f s" % (
            epoch + 1, figures["train_loss"], val_loss, val_acc, figures["epoch_seconds"]))
    return figures


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", default="runs/imitation", help="output folder (init.pt, imitation.json)")
    parser.add_argument("--games", type=int, default=16, help="games to record (the last one is held out)")
    parser.add_argument("--kaggle-share", type=float, default=0.5, help="share of games on the Kaggle config")
    parser.add_argument("--every", type=int, default=2, help="record every n-th step")
    parser.add_argument("--max-steps", type=int, default=1000, help="game length")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--dagger-rounds", type=int, default=1,
                        help="rounds of: the fitted policy plays --games more games, the heuristic labels them, refit "
                             "on everything (DAgger)")
    parser.add_argument("--dagger-epochs", type=int, default=3, help="epochs of each refit")
    parser.add_argument("--dagger-beta", type=float, default=0.5,
                        help="probability that the heuristic drives a player's step in the first DAgger round "
                             "(halved every round; 0: the policy drives every step)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--heavy-weight", type=float, default=4.0,
                        help="loss weight of a heavy's decision relative to a light's (a team has about one heavy "
                             "per factory and four lights, and the heavies' ice keeps the factories alive)")
    parser.add_argument("--batch", type=int, default=32, help="samples (maps) per minibatch")
    parser.add_argument("--net-channels", type=int, default=TrainConfig.net_channels)
    parser.add_argument("--net-blocks", type=int, default=TrainConfig.net_blocks)
    parser.add_argument("--init-from", default=None,
                        help="start from these weights (an init.pt of an earlier imitation run, same network size, or "
                             "an exported policy such as weights/policy.onnx, its inputs matched by name) "
                             "instead of random ones")
    parser.add_argument("--seed", type=int, default=1, help="first game seed; also seeds torch")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes recording games")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads while fitting")
    parser.add_argument("--device", default="cpu", help="torch device for fitting (cpu, cuda); games run on CPUs")
    args = parser.parse_args(argv)
    if args.games < 2:
        parser.error("--games must be at least 2 (one is held out)")
    if not 0.0 <= args.kaggle_share <= 1.0:
        parser.error("--kaggle-share must be in [0, 1]")
    if not 0.0 <= args.dagger_beta <= 1.0:
        parser.error("--dagger-beta must be in [0, 1]")
    init_state = None
    if args.init_from:  # checked before minutes of recording
        try:
            init_state = load_init(args.init_from)
        except (FileNotFoundError, ValueError) as exc:
            parser.error(str(exc))
    os.makedirs(args.run_dir, exist_ok=True)
    cfg = TrainConfig(net_channels=args.net_channels, net_blocks=args.net_blocks, seed=args.seed).validate()
    seed_everything(args.seed)
    net = training_network(cfg)  # eval mode: batch statistics as in rollouts and play (magma_policy.network)
    if init_state is not None:
        try:
            net.load_state_dict(init_state)
        except RuntimeError as exc:
            parser.error("--init-from %s does not fit a %d-channel %d-block network: %s" % (
                args.init_from, args.net_channels, args.net_blocks, str(exc).splitlines()[0]))

    try:
        net.to(args.device)
    except (RuntimeError, AssertionError) as exc:
        parser.error("--device %s is not usable here: %s" % (args.device, exc))
    start = time.perf_counter()
    seeds = list(range(args.seed * 10_000, args.seed * 10_000 + args.games))
    games = record(seeds, args.kaggle_share, args.every, args.max_steps, args.workers)
    held_out = games[-1]
    train = [s for g in games[:-1] for s in g]
    n_units = sum(len(s.labels) for s in train)
    labels = np.concatenate([s.labels for s in train])
    record_seconds = time.perf_counter() - start
    print("recorded %d games in %.0f s: %d samples, %d robot decisions (action shares %s)" % (
        len(games), record_seconds, len(train), n_units,
        np.round(np.bincount(labels, minlength=9) / max(len(labels), 1), 3).tolist()), flush=True)

    torch.set_num_threads(args.threads)
    _, acc0 = accuracy(net, held_out)
    print("held-out accuracy before fitting: %.3f" % acc0, flush=True)
    log = lambda m: print(m, flush=True)  # noqa: E731
    figures = fit(net, train, held_out, args.epochs, args.lr, args.batch, args.seed, log=log,
                  heavy_weight=args.heavy_weight)
    onnx_path = os.path.join(args.run_dir, "policy.onnx")
    summary = dict(vars(args), record_seconds=record_seconds, samples=len(train), robot_decisions=n_units,
                   held_out_accuracy_before=acc0, **figures)
    save(net, args, summary, onnx_path)
    for round_ in range(1, args.dagger_rounds + 1):
        start = time.perf_counter()
        seeds = list(range(args.seed * 10_000 + round_ * 1000, args.seed * 10_000 + round_ * 1000 + args.games))
        beta = args.dagger_beta / 2 ** (round_ - 1)
        games = record(seeds, args.kaggle_share, args.every, args.max_steps, args.workers, policy_path=onnx_path,
                       heuristic_share=beta)
        train += [s for g in games for s in g]
        torch.set_num_threads(args.threads)
        log("DAgger round %d: %d games played by the policy (heuristic share %.2f) in %.0f s, %d samples in all" % (
            round_, len(games), beta, time.perf_counter() - start, len(train)))
        figures = fit(net, train, held_out, args.dagger_epochs, args.lr * 0.5, args.batch, args.seed + round_,
                      log=log, heavy_weight=args.heavy_weight)
        summary.update({"dagger_round": round_, "samples": len(train),
                        "robot_decisions": sum(len(s.labels) for s in train), **figures})
        save(net, args, summary, onnx_path)
    summary["held_out_recall_by_action"] = recall_by_action(net, held_out)
    log("held-out recall by heuristic action: %s" % ", ".join(
        "%s %.2f" % kv for kv in summary["held_out_recall_by_action"].items()))
    save(net, args, summary, onnx_path)
    print("wrote %s (start PPO from it with: python train/run.py --init-from %s) and %s (the warm-started "
          "policy alone; play it with LUX_POLICY_WEIGHTS=%s)" % (os.path.join(args.run_dir, "init.pt"),
                                                                os.path.join(args.run_dir, "init.pt"),
                                                                onnx_path, onnx_path))
    return 0


def save(net: torch.nn.Module, args: argparse.Namespace, summary: Dict, onnx_path: str) -> None:
    """init.pt (for --init-from), imitation.json (figures) and policy.onnx (the policy alone)."""
    import copy

    from magma_policy.export import export_onnx

    net = copy.deepcopy(net).cpu()  # files hold CPU tensors, whatever device fitted them
    torch.save({"net": net.state_dict(), "net_channels": args.net_channels, "net_blocks": args.net_blocks},
               os.path.join(args.run_dir, "init.pt"))
    with open(os.path.join(args.run_dir, "imitation.json"), "w") as handle:
        json.dump(summary, handle, indent=2)
    export_onnx(net, onnx_path, {"global_step": 0, "run": os.path.basename(os.path.abspath(args.run_dir)),
                                 "imitation": {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}})


if __name__ == "__main__":
    sys.exit(main())
