"""Env workers: games stepped in subprocesses, observations encoded where the game runs.

The learner sees only `EnvPool`: `reset()`, `step(actions)`, `snapshot()`/`restore()` and `close()`. Each env
holds one `GameRunner` (a game, its trajectory keys and rewards); the pool hands the learner one `SeatObs` per
learning seat of each env, in env order, and takes back one array of chosen action indices per seat.
Backends: `InProcessEnvPool` (tests, num_workers=0), `SubprocessEnvPool` (one process per worker, each
running several games) and `RayEnvPool` (one Ray actor per worker, on this machine or a cluster; `env_backend`).
The PettingZoo environment (train/pettingzoo_env.py) drives one `GameRunner` for both players.
"""
from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import pickle
import random
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from lux.homes import RobotHomes
from lux.rules import FAILED_SCORE, decide_winner
from lux.state import PLAYERS, GameState, opponent
from strategy.units import HeuristicUnitController
from train.env import LuxGame
from train.midgame import midgame_starts
from train.rewards import lichen_of, step_rewards
from train.separation import SlotMap, mix_rewards, random_group, switches_from


@dataclass
class SeatObs:
    """One learning seat's observation at one step (arrays as magma_policy.features.encode returns them)."""

    map_planes: np.ndarray  # float16 [C, H, W] (halves pipe traffic and rollout memory; the net sees float32)
    global_features: np.ndarray  # float32 [G]
    unit_pos: np.ndarray  # int64 [N, 2]
    unit_features: np.ndarray  # float32 [N, U]
    action_mask: np.ndarray  # bool [N, A]
    keys: np.ndarray  # int64 [N]: trajectory key of each unit
    learning: bool = True  # False: the seat of a frozen opponent network (opponent=checkpoints)


@dataclass
class StepResult:
    """What one env returns after a step."""

    rewards: List[np.ndarray]  # per learning seat: r_i [N] of the units of the previous SeatObs
    ended: bool  # the game ended with this step (`obs` is then the next game's first step, or empty)
    obs: List[SeatObs]  # per learning seat, the observation to act on next
    terms: Dict[str, float] = field(default_factory=dict)  # reward terms of this step, summed over seats
    episode: Optional[Dict[str, float]] = None  # game figures when `ended`
    seat_rewards: List[float] = field(default_factory=list)  # per learning seat: its reward terms summed


def to_float16(planes: np.ndarray) -> np.ndarray:
    """`planes` as float16, rounded as numpy rounds (to nearest even), through torch's vectorised cast: numpy's
    cast of one map took ~40x as long, 3% of a rollout step."""
    try:
        import torch
    except ImportError:  # the PettingZoo environment without the trainer's packages
        return np.asarray(planes, dtype=np.float16)
    return torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32)).half().numpy()


def n_keys(cfg: Any) -> int:
    """Trajectory keys per (env, player)."""
    if cfg.mode == "global":
        return 1
    if cfg.mode == "grouped" and cfg.grouping == "random":
        return cfg.n_groups
    return cfg.max_units


class GameRunner:
    """A game plus everything per-seat the learner needs: encoded observations, trajectory keys, rewards."""

    def __init__(self, cfg: Any, seed: int, fixed_seed: Optional[int] = None, auto_reset: bool = True,
                 selfplay: Optional[bool] = None, game: Optional[LuxGame] = None) -> None:
        """`game`: the game to run (default: one built from `cfg` and the seeds, with strategy/'s setup)."""
        self.cfg = cfg
        # Evaluation games (fixed_seed) always start at step 0.
        midgame = midgame_starts(cfg) if fixed_seed is None else None
        self.game = game if game is not None else LuxGame(seed, cfg.kaggle_ratio, cfg.max_episode_length,
                                                          cfg.allow_watering, fixed_seed, midgame=midgame)
        self.auto_reset = auto_reset
        self.selfplay = cfg.opponent == "selfplay" if selfplay is None else selfplay
        # Seats observed for a network: both, unless the heuristic controller always plays the other one. With the
        # opponent pool the learner decides per game: a seat sent None as its actions is the heuristic's.
        self.both_seats = self.selfplay or cfg.opponent in ("checkpoints", "pool")
        self.learn_seat = PLAYERS[0]
        self.heuristic = HeuristicUnitController()
        self.homes = RobotHomes()  # the learning seats' robots' homes, as the agent remembers them in play
        self.separate_reward = switches_from(cfg).reward
        self.seats: List[str] = []
        self.unit_ids: Dict[str, List[str]] = {}
        self.targets: Dict[str, Any] = {}  # per seat: the last observation's target tiles (for GO actions)
        self.slots: Dict[str, SlotMap] = {}
        self.factory_slots: Dict[str, SlotMap] = {}
        self.over = False

    def reset(self) -> List[SeatObs]:
        state = self.game.reset()
        self.over = False
        if self.game.start_step > 0:
            # A mid-game start may be later than the last game's end, which the homes and the controller take
            # for a new game only when the step goes back: start both afresh.
            self.homes, self.heuristic = RobotHomes(), HeuristicUnitController()
        # Self-play: both seats learn. Otherwise our seat alternates between games.
        self.learn_seat = PLAYERS[(self.game.episode - 1) % 2]
        self.seats = list(PLAYERS) if self.both_seats else [self.learn_seat]
        self.slots = {p: SlotMap(self.cfg.max_units) for p in self.seats}
        self.factory_slots = {p: SlotMap(self.cfg.max_units) for p in self.seats}
        return [self._observe(state, p) for p in self.seats]

    def observe(self) -> List[SeatObs]:
        """The seats' observations of the current state (after a game ended without auto_reset: its last one)."""
        return [self._observe(self.game.state, p) for p in self.seats]

    def _keys(self, state: GameState, player: str, unit_ids: List[str]) -> np.ndarray:
        slots = self.slots[player].assign(unit_ids)
        cfg = self.cfg
        if cfg.mode == "separated":
            return slots
        if cfg.mode == "global":
            return np.zeros(len(unit_ids), dtype=np.int64)
        if cfg.grouping == "random":
            return np.array([random_group(u, cfg.n_groups) for u in unit_ids], dtype=np.int64)
        factories = list(state.factories.get(player, {}).values())
        fslots = self.factory_slots[player].assign([f.unit_id for f in factories])
        if not factories:
            return np.zeros(len(unit_ids), dtype=np.int64)
        units = state.units[player]
        nearest = [min(range(len(factories)), key=lambda j: factories[j].distance_to(units[u].pos)) for u in unit_ids]
        return fslots[np.array(nearest, dtype=np.int64)] if unit_ids else np.zeros(0, dtype=np.int64)

    def _observe(self, state: GameState, player: str) -> SeatObs:
        from magma_policy.features import encode

        f = encode(state, player, self.homes.update(state, player))
        ids = list(f.unit_ids)
        self.unit_ids[player] = ids
        self.targets[player] = f.targets
        return SeatObs(to_float16(f.map_planes), f.global_features, f.unit_pos, f.unit_features,
                       f.action_mask, self._keys(state, player, ids), self.selfplay or player == self.learn_seat)

    def _learner_result(self, state: GameState) -> Dict[str, float]:
        """Against the heuristic controller: the learning seat's result (1 win, 0.5 draw, 0 loss; a player
        without factories loses, else more lichen wins) and its share of the lichen."""
        me, other = self.learn_seat, opponent(self.learn_seat)
        lichen = {p: lichen_of(state, p) for p in (me, other)}
        scores = {p: lichen[p] if state.factories.get(p) else FAILED_SCORE for p in (me, other)}
        winner = decide_winner(scores)
        result = 0.5 if winner is None else float(winner == me)
        total = lichen[me] + lichen[other]
        return {"learner_result": result, "learner_lichen_share": lichen[me] / total if total else 0.5}

    def step(self, chosen: Sequence[np.ndarray]) -> StepResult:
        from magma_policy.actions import decode

        if self.over:
            raise RuntimeError("step() on a finished game without auto_reset")
        prev = self.game.state
        unit_actions: Dict[str, Dict[str, Any]] = {}
        for player, acts in zip(self.seats, chosen):
            if acts is None:  # the opponent pool's heuristic controller plays this seat
                unit_actions[player] = self.heuristic.act(prev, player)
                continue
            acts = np.asarray(acts, dtype=np.int64)
            if len(acts) != len(self.unit_ids[player]):
                raise ValueError("%s: got %d actions for %d units" % (player, len(acts), len(self.unit_ids[player])))
            unit_actions[player] = decode(prev, player, self.unit_ids[player], acts, self.targets.get(player))
        for player in PLAYERS:
            if player not in self.seats:
                unit_actions[player] = self.heuristic.act(prev, player)
        state, over = self.game.step(unit_actions)
        rewards: List[np.ndarray] = []
        totals: List[float] = []
        terms: Dict[str, float] = {}
        for player in self.seats:
            sr = step_rewards(prev, state, player, self.unit_ids[player], self.cfg, over)
            mixed, _ = mix_rewards(sr.own, sr.team, self.cfg.reward_own_weight, self.separate_reward)
            rewards.append(mixed)
            totals.append(float(sum(sr.terms.values())))
            for k, v in sr.terms.items():
                terms[k] = terms.get(k, 0.0) + v
        if not over:
            return StepResult(rewards, False, [self._observe(state, p) for p in self.seats], terms,
                              seat_rewards=totals)
        episode = self.game.stats()
        if not self.selfplay:
            episode.update(self._learner_result(state))
        if self.auto_reset:
            return StepResult(rewards, True, self.reset(), terms, episode, totals)
        self.over = True
        return StepResult(rewards, True, [], terms, episode, totals)


def build_runners(cfg: Any, env_indices: Sequence[int], eval_seeds: Optional[Sequence[int]] = None
                  ) -> List[GameRunner]:
    """Training runners (seeded from the run seed and env index) or evaluation runners (fixed game seeds,
    self-play, no reset)."""
    if eval_seeds is not None:
        cfg = dataclasses.replace(cfg, max_episode_length=cfg.eval_episode_length)
        return [GameRunner(cfg, seed=int(s), fixed_seed=int(s), auto_reset=False, selfplay=True) for s in eval_seeds]
    return [GameRunner(cfg, seed=cfg.seed * 100_003 + i) for i in env_indices]


class EnvPool:
    """The interface the learner steps; `actions[e]` is None to skip env e (a finished evaluation game).

    Envs form groups (one per worker process): `send(g, actions)` starts a step of group g and `recv(g)`
    collects it, so the learner can choose one group's actions while another group's games step.
    """

    def groups(self) -> List[List[int]]:
        raise NotImplementedError

    def reset(self) -> List[List[SeatObs]]:
        raise NotImplementedError

    def send(self, group: int, actions: Sequence[Optional[Sequence[np.ndarray]]]) -> None:
        raise NotImplementedError

    def recv(self, group: int) -> List[Optional[StepResult]]:
        raise NotImplementedError

    def step(self, actions: Sequence[Optional[Sequence[np.ndarray]]]) -> List[Optional[StepResult]]:
        """All groups at once (`actions` for every env, in env order)."""
        groups = self.groups()
        for g, envs in enumerate(groups):
            self.send(g, [actions[e] for e in envs])
        return [res for g in range(len(groups)) for res in self.recv(g)]

    def snapshot(self) -> bytes:
        raise NotImplementedError

    def restore(self, blob: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcessEnvPool(EnvPool):
    def __init__(self, runners: List[GameRunner]) -> None:
        self.runners = runners
        self._pending: Optional[Sequence[Optional[Sequence[np.ndarray]]]] = None

    def groups(self) -> List[List[int]]:
        return [list(range(len(self.runners)))]

    def reset(self) -> List[List[SeatObs]]:
        return [r.reset() for r in self.runners]

    def send(self, group: int, actions: Sequence[Optional[Sequence[np.ndarray]]]) -> None:
        self._pending = actions

    def recv(self, group: int) -> List[Optional[StepResult]]:
        actions, self._pending = self._pending, None
        if actions is None:
            raise RuntimeError("recv() without send()")
        return [None if a is None else r.step(a) for r, a in zip(self.runners, actions)]

    def snapshot(self) -> bytes:
        return pickle.dumps(self.runners)

    def restore(self, blob: bytes) -> None:
        self.runners = pickle.loads(blob)


def _worker_main(conn: Any, runners: List[GameRunner]) -> None:
    import signal

    import torch

    # Ctrl-C reaches the whole process group: the learner decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    while True:
        try:
            cmd, arg = conn.recv()
        except EOFError:
            return
        try:
            if cmd == "reset":
                out: Any = [r.reset() for r in runners]
            elif cmd == "step":
                out = [None if a is None else r.step(a) for r, a in zip(runners, arg)]
            elif cmd == "snapshot":
                out = pickle.dumps(runners)
            elif cmd == "restore":
                runners = pickle.loads(arg)
                out = None
            elif cmd == "close":
                conn.send(("ok", None))
                return
            else:
                raise ValueError("unknown command %r" % cmd)
            conn.send(("ok", out))
        except Exception:  # the learner re-raises it with the worker's traceback
            conn.send(("error", traceback.format_exc()))


def split_snapshot(blob: bytes, split: Sequence[Sequence[int]]) -> List[bytes]:
    """A pool's snapshot (all runners, one pickled list) cut into one pickled list per worker, as `split` deals the
    envs out; a snapshot of another number of envs is refused."""
    runners = pickle.loads(blob)
    if len(runners) != sum(len(p) for p in split):
        raise ValueError("snapshot has %d envs, pool has %d" % (len(runners), sum(len(p) for p in split)))
    return [pickle.dumps([runners[i] for i in part]) for part in split]


class SubprocessEnvPool(EnvPool):
    """Envs split evenly over `num_workers` processes (forked: the parent's imports are reused)."""

    def __init__(self, runners: List[GameRunner], num_workers: int) -> None:
        if num_workers < 1:
            raise ValueError("num_workers must be >= 1 for the subprocess pool")
        num_workers = min(num_workers, len(runners))
        ctx = mp.get_context("fork")
        self.split = np.array_split(np.arange(len(runners)), num_workers)
        self.conns = []
        self.procs = []
        for part in self.split:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child, [runners[i] for i in part]), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    def _send(self, i: int, message: Any) -> None:
        try:
            self.conns[i].send(message)
        except (BrokenPipeError, ConnectionResetError):
            raise RuntimeError("env worker %d exited unexpectedly (exit code %s)"
                               % (i, self.procs[i].exitcode)) from None

    def _receive(self, i: int) -> Any:
        try:
            status, value = self.conns[i].recv()
        except EOFError:
            raise RuntimeError("env worker %d exited unexpectedly (exit code %s)"
                               % (i, self.procs[i].exitcode)) from None
        if status != "ok":
            raise RuntimeError("env worker %d failed:\n%s" % (i, value))
        return value

    def _call(self, cmd: str, args: Optional[List[Any]] = None) -> List[Any]:
        for i in range(len(self.conns)):
            self._send(i, (cmd, None if args is None else args[i]))
        return [self._receive(i) for i in range(len(self.conns))]

    def groups(self) -> List[List[int]]:
        return [list(map(int, part)) for part in self.split]

    def reset(self) -> List[List[SeatObs]]:
        return [obs for part in self._call("reset") for obs in part]

    def send(self, group: int, actions: Sequence[Optional[Sequence[np.ndarray]]]) -> None:
        self._send(group, ("step", list(actions)))

    def recv(self, group: int) -> List[Optional[StepResult]]:
        return self._receive(group)

    def snapshot(self) -> bytes:
        """All runners as one pickled list, whatever the number of workers (resume may use another)."""
        return pickle.dumps([r for blob in self._call("snapshot") for r in pickle.loads(blob)])

    def restore(self, blob: bytes) -> None:
        self._call("restore", split_snapshot(blob, self.split))

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        self.conns, self.procs = [], []


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _EnvActor:
    """One Ray actor's games, stepped as `_worker_main` steps a subprocess's.

    Results go back pickled, as through the subprocess pool's pipe: arrays Ray deserialises itself may be
    read-only views of its object store, and the learner gets the same writable arrays from either pool.
    """

    def __init__(self, blob: bytes, rng_state: Tuple[Any, Any]) -> None:
        import torch

        torch.set_num_threads(1)
        # A forked worker inherits the learner's global RNG state; the actors start from the same, so that
        # nothing drawing from the global RNGs can tell the pools apart (the games use their own seeded RNGs).
        np.random.set_state(rng_state[0])
        random.setstate(rng_state[1])
        self.runners: List[GameRunner] = pickle.loads(blob)

    def reset(self) -> bytes:
        return pickle.dumps([r.reset() for r in self.runners])

    def step(self, blob: bytes) -> bytes:
        actions = pickle.loads(blob)
        return pickle.dumps([None if a is None else r.step(a) for r, a in zip(self.runners, actions)])

    def snapshot(self) -> bytes:
        return pickle.dumps(self.runners)

    def restore(self, blob: bytes) -> None:
        self.runners = pickle.loads(blob)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("env_backend=ray needs the ray package (pinned in requirements.txt): "
                          "pip install -r requirements.txt") from None
    return ray


def connect_ray(address: Optional[str] = None, num_cpus: Optional[int] = None) -> Any:
    """The `ray` module, connected: to the cluster at `address` (e.g. "auto", "HOST:6379", "ray://HOST:10001"),
    or to a Ray started here with `num_cpus` CPUs (at least this machine's) when no address is given. A process
    already connected stays on its cluster."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    try:
        if address:
            ray.init(address=address)
        else:
            ray.init(num_cpus=max(num_cpus or 1, os.cpu_count() or 1), include_dashboard=False)
    except ConnectionError as exc:
        raise ValueError("cannot reach the Ray cluster at %s: %s" % (address, exc)) from None
    return ray


class RayEnvPool(EnvPool):
    """Envs split evenly over `num_actors` Ray actors, as the subprocess pool splits them over processes: the same
    groups, the same games, the same results for the same seeds.

    Each actor reserves one CPU (`reserve_cpus`), so that the actors spread over a cluster's nodes by their
    CPUs; evaluation pools reserve none, because they run while the training actors (idle then) hold theirs.
    Actors import train/ from this checkout's path (PYTHONPATH): every node of a cluster needs the repository at
    the same path, with the same packages.
    """

    def __init__(self, runners: List[GameRunner], num_actors: int, address: Optional[str] = None,
                 reserve_cpus: bool = True) -> None:
        if num_actors < 1:
            raise ValueError("num_workers must be >= 1 for the ray pool")
        num_actors = min(num_actors, len(runners))
        ray = self._ray = connect_ray(address, num_actors)
        cpus = 1 if reserve_cpus else 0
        total = ray.cluster_resources().get("CPU", 0.0)
        if cpus * num_actors > total:
            # Actors that can never be placed would leave the learner waiting for ever.
            raise ValueError("the Ray cluster has %g CPUs, too few for %d env actors of one CPU each: lower "
                             "--num-workers or add Ray workers" % (total, num_actors))
        self.split = np.array_split(np.arange(len(runners)), num_actors)
        path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
        actor = ray.remote(_EnvActor).options(num_cpus=cpus, scheduling_strategy="SPREAD",
                                              runtime_env={"env_vars": {"PYTHONPATH": path}})
        rng_state = (np.random.get_state(), random.getstate())
        self.actors = [actor.remote(pickle.dumps([runners[i] for i in part]), rng_state) for part in self.split]
        self._pending: Dict[int, Any] = {}

    def _get(self, i: int, ref: Any) -> Any:
        exceptions = self._ray.exceptions
        try:
            value = self._ray.get(ref)
        except exceptions.RayActorError:
            raise RuntimeError("env actor %d exited unexpectedly" % i) from None
        except exceptions.RayTaskError as exc:  # the learner re-raises it with the actor's traceback
            raise RuntimeError("env actor %d failed:\n%s" % (i, exc)) from None
        return None if value is None else pickle.loads(value)

    def _call(self, method: str, args: Optional[List[Any]] = None) -> List[Any]:
        refs = [getattr(a, method).remote(*([] if args is None else [args[i]])) for i, a in enumerate(self.actors)]
        return [self._get(i, ref) for i, ref in enumerate(refs)]

    def groups(self) -> List[List[int]]:
        return [list(map(int, part)) for part in self.split]

    def reset(self) -> List[List[SeatObs]]:
        return [obs for part in self._call("reset") for obs in part]

    def send(self, group: int, actions: Sequence[Optional[Sequence[np.ndarray]]]) -> None:
        if group in self._pending:
            raise RuntimeError("send() to group %d before recv() of its last step" % group)
        self._pending[group] = self.actors[group].step.remote(pickle.dumps(list(actions)))

    def recv(self, group: int) -> List[Optional[StepResult]]:
        if group not in self._pending:
            raise RuntimeError("recv() without send()")
        return self._get(group, self._pending.pop(group))

    def snapshot(self) -> bytes:
        """All runners as one pickled list, as the subprocess pool's (a run may resume on either backend)."""
        return pickle.dumps([r for part in self._call("snapshot") for r in part])

    def restore(self, blob: bytes) -> None:
        self._call("restore", split_snapshot(blob, self.split))

    def close(self) -> None:
        """Ends the actors; Ray itself stays up for the next pool of this process (an evaluation's)."""
        for a in self.actors:
            try:
                self._ray.kill(a)
            except Exception:  # already gone
                pass
        self.actors, self._pending = [], {}


def make_pool(cfg: Any, eval_seeds: Optional[Sequence[int]] = None) -> EnvPool:
    """The pool `cfg` asks for: in-process (num_workers=0), subprocesses or Ray actors (env_backend)."""
    runners = build_runners(cfg, range(cfg.num_envs), eval_seeds)
    if cfg.num_workers == 0:
        return InProcessEnvPool(runners)
    if cfg.env_backend == "ray":
        return RayEnvPool(runners, cfg.num_workers, cfg.ray_address, reserve_cpus=eval_seeds is None)
    return SubprocessEnvPool(runners, cfg.num_workers)


def seats_per_env(cfg: Any) -> int:
    """Seats observed in each env (the learner's, and a frozen opponent's or, with the pool, the heuristic's)."""
    return 1 if cfg.opponent == "heuristic" else 2


def learning_seats_per_env(cfg: Any) -> int:
    return 2 if cfg.opponent == "selfplay" else 1

