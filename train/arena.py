"""Play one Lux S2 game between two `main.py` agents through the official runner, and measure it.

The agents run as subprocesses speaking the real stdin/stdout protocol (`luxai_runner.episode.Episode`), so
a game here is what `luxai-s2 a/main.py b/main.py` plays, with three runner quirks worth knowing:
observations after turn 0 are deltas (`get_change_obs`), `env_cfg` only arrives in turn 0's `info`, and the
runner allows 9 s a turn plus a 600 s overage pool (Kaggle: 3 s plus 60 s; see `KAGGLE_TIMING`).

On top of the runner the arena measures, per player: agent errors (a turn whose answer was not an action
dict: a crash, a time-out, unparsable output), actions the engine threw away as invalid (by wrapping the
engine's `validate_actions`), ice and ore delivered into factories, robots and factories alive after every
step (so the step at which a side lost its last robot or its last factory is known), and turn times (by
timing `Bot.step`). Agent stderr is collected into the result instead of being printed.

One runner limit is lifted: the runner reads an agent's answer with a 128 KiB line limit, and a longer answer
(a bot with many robots sending long action queues) would be lost and its agent forfeited.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import luxai_runner.episode as runner_episode
import luxai_s2.env as engine_env
import numpy as np
from luxai_runner.bot import Bot
from luxai_runner.episode import Episode, EpisodeConfig, ReplayConfig
from luxai_s2 import LuxAI_S2

from lux.rules import FAILED_SCORE, decide_winner

PLAYERS = ("player_0", "player_1")
GAME_CONFIGS: Dict[str, Dict[str, Any]] = {
    "kaggle": dict(map_size=48, MIN_FACTORIES=2, MAX_FACTORIES=5),
    "neurips": {},  # the luxai_s2 3.0.1 defaults: 64x64, 4-10 factories a team
}
# (seconds per turn, overage pool in seconds)
RUNNER_TIMING = (9.0, 600.0)
KAGGLE_TIMING = (3.0, 60.0)
STDERR_KEEP_CHARS = 20000
# Longest answer line read from an agent (the runner's own limit is 128 KiB; Kaggle sets none).
ANSWER_LIMIT_BYTES = 64 * 1024 * 1024


@dataclass
class PlayerStats:
    """What one seat did in one game."""

    agent: str  # path of its main.py
    score: int  # the engine's final reward: lichen, or FAILED_SCORE
    lichen: int  # lichen on the board in this player's strains at the end
    factories_alive: int
    ice_delivered: int  # ice transferred into own factories
    ore_delivered: int
    errors: int  # turns without a usable answer (crash, time-out, unparsable output)
    invalid_actions: int  # actions the engine rejected (one per unit/factory action, or a rejected turn)
    failure: Optional[str]  # why the engine ended this player's game early, None if it did not
    turns: int
    first_turn_s: float  # includes the agent's start-up (imports, weight loading)
    turn_time_mean_s: float  # over the turns after the first
    turn_time_max_s: float
    stderr: str = ""
    factories_placed: int = 0  # factories this player placed (all it ever had)
    rejected_examples: List[str] = field(default_factory=list)  # the first few rejected actions, described
    robots_alive: int = 0  # robots standing at the end
    robots_built: int = 0  # distinct robots this player ever had
    # real_env_steps at the end of the step in which the robot count last fell to 0 (None: it never did,
    # though robots built later may be alive at the end) and in which the last factory was lost (None: never;
    # factories are never rebuilt, and losing the last one ends the game).
    last_robot_lost_step: Optional[int] = None
    last_factory_lost_step: Optional[int] = None


@dataclass
class GameResult:
    seed: int
    config: str
    steps: int  # real env steps played (1000 for a full game)
    winner: Optional[str]  # "player_0", "player_1", or None for a draw
    players: Dict[str, PlayerStats]
    wall_s: float
    replay_paths: List[str] = field(default_factory=list)

    def to_dict(self, with_stderr: bool = False) -> Dict[str, Any]:
        data = dataclasses.asdict(self)
        if not with_stderr:
            for stats in data["players"].values():
                stats.pop("stderr", None)
        return data

    def seat_of(self, agent: str) -> Optional[str]:
        """The player name an agent path played as (the first seat if it played both)."""
        for player in PLAYERS:
            if self.players[player].agent == agent:
                return player
        return None


MAX_REJECTED_EXAMPLES = 5  # rejected actions described per player and game


class _ReapedChildFilter(logging.Filter):
    """Drops asyncio's "Unknown child process pid N" warning. When the runner closes an agent's transport at the
    end of a game, the transport polls (and so reaps) the process, racing asyncio's child watcher thread, which
    then finds no child and warns; the agent has exited either way."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unknown child process pid")


logging.getLogger("asyncio").addFilter(_ReapedChildFilter())


def rejected_pairs(before: Dict[str, list], after: Dict[str, list]) -> List[Tuple[str, Any, Any]]:
    """(kind, entity, action) of the pairs present in `before` but dropped from `after` by the engine."""
    kept = {id(action) for pairs in after.values() for _, action in pairs}
    return [(kind, entity, action) for kind, pairs in before.items() for entity, action in pairs
            if id(action) not in kept]


def count_rejected(before: Dict[str, list], after: Dict[str, list]) -> Counter:
    """Per player, the number of actions the engine dropped."""
    return Counter(entity.team.agent for _, entity, _ in rejected_pairs(before, after))


def describe_rejected(step: int, kind: str, entity: Any, action: Any) -> str:
    """One line saying which action of which robot or factory was dropped, and in what state it was."""
    pos = getattr(getattr(entity, "pos", None), "pos", None)
    where = " at (%d, %d)" % (int(pos[0]), int(pos[1])) if pos is not None else ""
    power = getattr(entity, "power", None)
    vector = action.state_dict() if hasattr(action, "state_dict") else action
    vector = vector.tolist() if isinstance(vector, np.ndarray) else vector
    return "step %d: %s of %s%s, power %s: %s" % (step, kind, getattr(entity, "unit_id", entity), where, power,
                                                   vector)


class _Tally:
    """Counters of the game being played; the engine hooks below write into the active one."""

    active: Optional[_Tally] = None

    def __init__(self) -> None:
        self.invalid: Counter = Counter()
        self.errors: Counter = Counter()
        self.ice: Counter = Counter()
        self.ore: Counter = Counter()
        self.failure: Dict[str, str] = {}
        self.rejected_examples: Dict[str, List[str]] = {}
        self.robots: Counter = Counter()  # robots alive after the latest step
        self.robot_ids: Dict[str, set] = {p: set() for p in PLAYERS}
        self.last_robot_lost: Dict[str, int] = {}
        self.last_factory_lost: Dict[str, int] = {}

    def count_survivors(self, state: Any, had_factories: Dict[str, int]) -> None:
        """After a step: note the step at which a side's robots or factories fell to none."""
        step = int(state.real_env_steps)
        for player in PLAYERS:
            units = state.units.get(player, {})
            if not units and self.robots[player] > 0:
                self.last_robot_lost[player] = step
            self.robots[player] = len(units)
            self.robot_ids[player].update(units)
            if not state.factories.get(player) and had_factories[player] > 0:
                self.last_factory_lost[player] = step


def _validate_and_count(env_cfg, state, actions_by_type, verbose=1):
    # Keep a shallow copy of what came in: the engine builds a new dict of the actions it keeps.
    before = {kind: list(pairs) for kind, pairs in actions_by_type.items()}
    after = _ENGINE_VALIDATE(env_cfg, state, actions_by_type, verbose=verbose)
    tally = _Tally.active
    rejected = count_rejected(before, after) if tally is not None else None
    if rejected:  # rare: only then are the dropped actions listed again, to describe them
        tally.invalid.update(rejected)
        for kind, entity, action in rejected_pairs(before, after):
            examples = tally.rejected_examples.setdefault(entity.team.agent, [])
            if len(examples) < MAX_REJECTED_EXAMPLES:
                examples.append(describe_rejected(int(state.real_env_steps), kind, entity, action))
    return after


_ENGINE_VALIDATE = engine_env.validate_actions


class ArenaEnv(LuxAI_S2):
    """The engine, plus bookkeeping of errors, rejected turns and deliveries into factories."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tally = _Tally()

    def step(self, actions):
        for player, action in actions.items():
            if action is None:
                self.tally.errors[player] += 1
        had_factories = {p: len(self.state.factories.get(p, {})) for p in PLAYERS}
        _Tally.active = self.tally
        try:
            out = super().step(actions)
        finally:
            _Tally.active = None
        self.tally.count_survivors(self.state, had_factories)
        rewards = out[1]
        for player, reward in rewards.items():
            if reward != FAILED_SCORE or player in self.tally.failure:
                continue
            if actions.get(player) is None:
                self.tally.failure[player] = "agent error"
            elif not self.state.factories.get(player) and self.state.real_env_steps >= 0:
                self.tally.failure[player] = "lost all factories" if had_factories[player] else "placed no factory"
            else:
                # The engine rejected the whole turn (malformed action, bad bid): an invalid action too.
                self.tally.failure[player] = "rejected action"
                self.tally.invalid[player] += 1
        return out

    def _factory_cargo(self, resource: str) -> Dict[str, int]:
        return {p: sum(getattr(f.cargo, resource) for f in facs.values()) for p, facs in self.state.factories.items()}

    def _handle_transfer_actions(self, actions_by_type) -> None:
        # Ice and ore only enter a factory by transfer, and refining happens later in the step.
        ice, ore = self._factory_cargo("ice"), self._factory_cargo("ore")
        super()._handle_transfer_actions(actions_by_type)
        for player, total in self._factory_cargo("ice").items():
            self.tally.ice[player] += total - ice.get(player, 0)
        for player, total in self._factory_cargo("ore").items():
            self.tally.ore[player] += total - ore.get(player, 0)


class TimedBot(Bot):
    """The runner's Bot, started with our interpreter, timed per turn, with its stderr kept."""

    timing = RUNNER_TIMING
    python = sys.executable
    instances: List[TimedBot] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_per_step, self.remainingOverageTime = self.timing
        self.turn_times: List[float] = []
        self.stderr_parts: List[str] = []
        if self.is_python:
            # "python" on PATH may not be the interpreter that has numpy & co.
            self.proc.command = self.python
        self.proc.live_log = False  # queue stderr lines instead of printing them
        read_queue = self.proc.stderr

        async def collect_stderr() -> str:
            self.stderr_parts.append(await read_queue())
            if len(self.stderr_parts) > 256:  # a chatty agent: keep only the tail
                self.stderr_parts[:] = ["".join(self.stderr_parts)[-STDERR_KEEP_CHARS:]]
            return ""

        self.proc.stderr = collect_stderr
        start_process = self.proc.start

        async def start_with_long_lines() -> None:
            await start_process()
            process = getattr(self.proc, "_agent_process", None)
            if process is not None and process.stdout is not None:
                # readline() raises on a line longer than the reader's limit, which the runner takes for an
                # agent that sent nothing; StreamReader has no public setter for it.
                process.stdout._limit = ANSWER_LIMIT_BYTES

        self.proc.start = start_with_long_lines
        TimedBot.instances.append(self)

    async def step(self, obs, step: int, reward: float = 0, info=None):
        start = time.perf_counter()
        action = await super().step(obs, step, reward, info if info is not None else {})
        self.turn_times.append(time.perf_counter() - start)
        return action

    def stderr_text(self) -> str:
        text = "".join(self.stderr_parts) + "".join(getattr(self.proc, "stderr_queue", []))
        return text[-STDERR_KEEP_CHARS:]


class ArenaEpisode(Episode):
    """The runner's Episode, writing its replay in several formats (HTML viewer page and/or JSON)."""

    def __init__(self, cfg: EpisodeConfig, replay_paths: Sequence[str]) -> None:
        super().__init__(cfg)
        self.replay_paths = list(replay_paths)

    def save_replay(self, replay, metadata):
        for path in self.replay_paths:
            self.cfg.save_replay_path = path
            self.cfg.replay_options.save_format = "html" if path.endswith(".html") else "json"
            super().save_replay(dict(replay), metadata)


@contextlib.contextmanager
def counting_invalid_actions() -> Iterator[None]:
    """While active, every ArenaEnv step counts the actions the engine's validation throws away."""
    saved = engine_env.validate_actions
    engine_env.validate_actions = _validate_and_count
    try:
        yield
    finally:
        engine_env.validate_actions = saved


@contextlib.contextmanager
def _runner_hooks(timing: Tuple[float, float]) -> Iterator[None]:
    saved = (runner_episode.Bot, TimedBot.timing)
    runner_episode.Bot = TimedBot
    TimedBot.timing = timing
    TimedBot.instances = []
    try:
        with counting_invalid_actions():
            yield
    finally:
        runner_episode.Bot, TimedBot.timing = saved


def _kill_leftovers(bots: Sequence[TimedBot]) -> None:
    for bot in bots:
        process = getattr(bot.proc, "_agent_process", None)
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


def _check_agent(path: str) -> str:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"agent not found: {path} (give the path of a main.py)")
    if not path.endswith(".py"):
        raise ValueError(f"agent must be a Python main.py, got {path}")
    return os.path.abspath(path)


def play_game(
    agent_0: str,
    agent_1: str,
    seed: int,
    config: str = "kaggle",
    replay_paths: Sequence[str] = (),
    timing: Tuple[float, float] = RUNNER_TIMING,
    verbosity: int = 0,
    max_episode_length: int = 1000,
) -> GameResult:
    """Play one full game, agent_0 as player_0, through the runner; write replays to `replay_paths` (.html/.json)."""
    if config not in GAME_CONFIGS:
        raise ValueError(f"unknown game config {config!r}; choose from {sorted(GAME_CONFIGS)}")
    agents = [_check_agent(agent_0), _check_agent(agent_1)]
    for path in replay_paths:
        if not (path.endswith(".html") or path.endswith(".json")):
            raise ValueError(f"replay path must end in .html or .json: {path}")
    env_cfg = dict(GAME_CONFIGS[config], verbose=verbosity, validate_action_space=True,
                   max_episode_length=max_episode_length)
    episode_cfg = EpisodeConfig(
        players=agents, env_cls=ArenaEnv, seed=seed, env_cfg=env_cfg, verbosity=verbosity, render=False,
        save_replay_path=replay_paths[0] if replay_paths else None,
        replay_options=ReplayConfig(save_format="json", compressed_obs=True),
    )
    start = time.perf_counter()
    with _runner_hooks(timing):
        episode = ArenaEpisode(episode_cfg, replay_paths)
        bots = TimedBot.instances
        try:
            scores = asyncio.run(episode.run())
        finally:
            _kill_leftovers(bots)
    return _summarise(episode.env, scores, bots, seed, config, agents, time.perf_counter() - start, replay_paths)


def _summarise(env: ArenaEnv, scores: Dict[str, float], bots: Sequence[TimedBot], seed: int, config: str,
               agents: Sequence[str], wall_s: float, replay_paths: Sequence[str]) -> GameResult:
    state = env.state
    tally = env.tally
    by_player = {bot.agent: bot for bot in bots}
    players = {}
    for index, player in enumerate(PLAYERS):
        team = state.teams.get(player)
        strains = list(team.factory_strains) if team is not None else []
        lichen = int(state.board.lichen[np.isin(state.board.lichen_strains, strains)].sum()) if strains else 0
        bot = by_player.get(player)
        times = bot.turn_times if bot is not None else []
        later = times[1:]
        players[player] = PlayerStats(
            agent=agents[index], score=int(scores.get(player, FAILED_SCORE)), lichen=lichen,
            factories_alive=len(state.factories.get(player, {})),
            ice_delivered=int(tally.ice[player]), ore_delivered=int(tally.ore[player]),
            errors=int(tally.errors[player]), invalid_actions=int(tally.invalid[player]),
            failure=tally.failure.get(player), turns=len(times),
            first_turn_s=round(times[0], 4) if times else 0.0,
            turn_time_mean_s=round(sum(later) / len(later), 4) if later else 0.0,
            turn_time_max_s=round(max(later), 4) if later else 0.0,
            stderr=bot.stderr_text() if bot is not None else "",
            # The engine appends a strain per placed factory and never removes one.
            factories_placed=len(strains),
            rejected_examples=list(tally.rejected_examples.get(player, [])),
            robots_alive=len(state.units.get(player, {})), robots_built=len(tally.robot_ids[player]),
            last_robot_lost_step=tally.last_robot_lost.get(player),
            last_factory_lost_step=tally.last_factory_lost.get(player),
        )
    final = {p: players[p].score for p in PLAYERS}
    return GameResult(seed=seed, config=config, steps=int(state.real_env_steps), winner=decide_winner(final),
                      players=players, wall_s=round(wall_s, 2), replay_paths=list(replay_paths))


_WRAPPER_SOURCE = '''"""Runs {main} with extra environment variables (written by train/arena.py)."""
import os
import runpy
import sys

os.environ.update({env!r})
sys.path.insert(0, {folder!r})
os.chdir({folder!r})
runpy.run_path({main!r}, run_name="__main__")
'''


def agent_with_env(main_py: str, env: Dict[str, str], folder: str) -> str:
    """Write `folder/main.py`, an agent that runs `main_py` with `env` set; return its path.

    The runner starts every agent with the arena's own environment, so a per-agent setting (such as the
    unit controller) needs its own entry point.
    """
    main_py = _check_agent(main_py)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "main.py")
    with open(path, "w") as handle:
        handle.write(_WRAPPER_SOURCE.format(main=main_py, env=dict(env), folder=os.path.dirname(main_py)))
    return path
