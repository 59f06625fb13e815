"""The ladder: our agent against every sparring partner and against our own heuristic controller, in one command.

    python tools/ladder.py                                      # all partners found, seeds 0-9, both seats
    python tools/ladder.py --opponents kit bot40 --seeds 0-2 --configs kaggle
    python tools/ladder.py --controller policy heuristic        # both unit controllers, paired by seed and seat
    python tools/ladder.py --report-only                        # rewrite ladder.md from ladder.json
    python tools/ladder.py --agent /copy/main.py --agent-version v2  # an agent outside git, named by hand

Opponents are the sparring partners (independent bots set up outside the project under --sparring-dir:
`bot15`, `bot40`, `bot76`, `kit`; a missing one is skipped, with the command that sets it up) and `heuristic`
(our own agent with the heuristic unit controller). Every game goes through the official runner
(train/arena.py), in both seats. The NeurIPS config is played only by the opponents that support it (the kit
and `heuristic`); the other partners were written for the Kaggle map.

Games are written to the JSON (default docs/results/ladder.json) one by one as they finish, and the markdown
report next to it (ladder.md) is regenerated each time, so an interrupted run loses at most the games in
flight. A game already in the JSON (same opponent, config, seed, seat, controller and agent version) is not
played again: rerunning the same command resumes. A game that fails to be played at all is logged, not recorded.

The agent version is the short git commit of the work tree holding --agent's main.py, with `+dirty` when tracked
files there have uncommitted changes (the ladder's own JSON and report excepted), `unknown` outside git; it is
taken once, when the run starts. Games of other versions stay in the JSON and are not counted as done: after the
agent changes, the same command plays the ladder again.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from agent import UNIT_CONTROLLER_ENV, WEIGHTS_ENV  # noqa: E402  (the variables agent.py reads)
from train.arena import GAME_CONFIGS, PLAYERS, RUNNER_TIMING, GameResult, agent_with_env, play_game  # noqa: E402
from train.evaluate import (  # noqa: E402
    SPARRING_DIR,
    SPARRING_PARTNERS,
    opponent_configs,
    parse_seeds,
    resolve_opponent,
    wilson_interval,
)

OUR_HEURISTIC = "heuristic"  # the opponent that is our own agent with the heuristic unit controller
OPPONENTS = tuple(SPARRING_PARTNERS) + (OUR_HEURISTIC,)  # the report's order
# The order games are played in: fast opponents first, so a short run already covers them.
PLAY_ORDER = ("kit", "bot40", "bot76", OUR_HEURISTIC, "bot15")
CONTROLLERS = ("policy", "heuristic")
RESULTS = ("win", "draw", "loss")
DEFAULT_JSON = os.path.join(REPO_ROOT, "docs", "results", "ladder.json")
# Every game record has exactly these keys, in this order. agent_version: see agent_version_of; recorded: when
# the game finished (ISO 8601, UTC).
GAME_FIELDS = ("opponent", "config", "seed", "seat", "controller", "agent_version", "result", "agent_errors",
               "agent_invalid_actions", "lichen", "opponent_lichen", "factories_alive", "opponent_factories_alive",
               "robots_alive", "opponent_robots_alive", "last_robot_lost_step", "last_factory_lost_step",
               "max_turn_s", "mean_turn_s", "steps", "recorded")
UNKNOWN_VERSION = "unknown"
# Records written before these fields existed load with these values.
LEGACY_DEFAULTS: Dict[str, Any] = {"agent_version": UNKNOWN_VERSION, "recorded": None}
MAX_NOTES = 5  # lines of our agent's stderr shown per game
MAX_WORKERS = 2  # games at once: each runs two agents, and the machines this runs on have two cores
assert set(PLAY_ORDER) == set(OPPONENTS)


@dataclass(frozen=True)
class Task:
    """One game of the ladder, seen from our agent."""

    opponent: str
    config: str
    seed: int
    seat: str  # our agent's seat
    controller: str  # our agent's unit controller
    agent_version: str  # our agent's version (agent_version_of)

    def key(self) -> Tuple[str, str, int, str, str, str]:
        return (self.opponent, self.config, self.seed, self.seat, self.controller, self.agent_version)


def game_key(game: Dict[str, Any]) -> Tuple[str, str, int, str, str, str]:
    return (game["opponent"], game["config"], int(game["seed"]), game["seat"], game["controller"],
            game["agent_version"])


def _git(folder: str, *args: str) -> Optional[str]:
    """git's stdout in `folder`, or None when git fails there (not a work tree, no commit, no git)."""
    try:
        done = subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def agent_version_of(agent: str, ignore: Sequence[str] = ()) -> str:
    """The version of the agent at `agent` (its main.py): the short commit of the git work tree holding it, plus
    `+dirty` when tracked files there have uncommitted changes; `unknown` outside git. Files in `ignore` (the
    ladder's own outputs, which a run rewrites) do not make the tree dirty, so an interrupted run resumes."""
    folder = os.path.dirname(os.path.realpath(agent))
    commit = _git(folder, "rev-parse", "--short", "HEAD")
    top = _git(folder, "rev-parse", "--show-toplevel")
    if not commit or not commit.strip() or not top:
        return UNKNOWN_VERSION
    top = os.path.realpath(top.strip())
    excluded = []
    for path in ignore:
        relative = os.path.relpath(os.path.realpath(path), top)
        if not relative.startswith(".."):
            excluded.append(":(top,exclude,literal)" + relative)
    changes = _git(top, "status", "--porcelain", "--untracked-files=no", "--", ":(top)", *excluded)
    if changes is None:
        return UNKNOWN_VERSION
    return commit.strip() + ("+dirty" if changes.strip() else "")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def outcome(winner: Optional[str], seat: str) -> str:
    """win / draw / loss of `seat` given the engine's winner (lux.rules.decide_winner; None is a draw)."""
    if winner is None:
        return "draw"
    return "win" if winner == seat else "loss"


def game_record(task: Task, result: GameResult, recorded: Optional[str] = None) -> Dict[str, Any]:
    """The ladder's record of one game: GAME_FIELDS, from our agent's seat; `recorded` defaults to now."""
    other = PLAYERS[1 - PLAYERS.index(task.seat)]
    ours, theirs = result.players[task.seat], result.players[other]
    record = dict(
        opponent=task.opponent, config=task.config, seed=task.seed, seat=task.seat, controller=task.controller,
        agent_version=task.agent_version, result=outcome(result.winner, task.seat), agent_errors=ours.errors,
        agent_invalid_actions=ours.invalid_actions, lichen=ours.lichen, opponent_lichen=theirs.lichen,
        factories_alive=ours.factories_alive, opponent_factories_alive=theirs.factories_alive,
        robots_alive=ours.robots_alive, opponent_robots_alive=theirs.robots_alive,
        last_robot_lost_step=ours.last_robot_lost_step, last_factory_lost_step=ours.last_factory_lost_step,
        max_turn_s=ours.turn_time_max_s, mean_turn_s=ours.turn_time_mean_s, steps=result.steps,
        recorded=recorded or _now(),
    )
    return {name: record[name] for name in GAME_FIELDS}


def _sort_key(game: Dict[str, Any]) -> Tuple:
    opponent = game["opponent"]
    rank = OPPONENTS.index(opponent) if opponent in OPPONENTS else len(OPPONENTS)
    config = list(GAME_CONFIGS).index(game["config"]) if game["config"] in GAME_CONFIGS else len(GAME_CONFIGS)
    controller = CONTROLLERS.index(game["controller"]) if game["controller"] in CONTROLLERS else len(CONTROLLERS)
    return (rank, opponent, config, controller, int(game["seed"]), game["seat"], game["agent_version"])


def load_games(path: str) -> List[Dict[str, Any]]:
    """The games recorded in a ladder JSON ([] when the file does not exist yet), each with its keys in
    GAME_FIELDS order; a record without agent_version or recorded (written before they existed) gets
    LEGACY_DEFAULTS. Raises ValueError when it exists but is not a ladder JSON (it is never overwritten then)."""
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("games"), list):
        raise ValueError(f"{path} is not a ladder JSON: expected {{\"games\": [...]}}")
    games = []
    for game in data["games"]:
        missing = [name for name in GAME_FIELDS if name not in game and name not in LEGACY_DEFAULTS]
        if missing:
            raise ValueError(f"{path}: a game lacks {', '.join(missing)}: {game}")
        ordered = {name: game.get(name, LEGACY_DEFAULTS.get(name)) for name in GAME_FIELDS}
        ordered.update((name, value) for name, value in game.items() if name not in ordered)
        games.append(ordered)
    return games


def save_games(path: str, games: Iterable[Dict[str, Any]]) -> None:
    """Write the ladder JSON atomically (a crash mid-write leaves the previous file), one game a line."""
    ordered = sorted(games, key=_sort_key)
    lines = ",\n".join("  " + json.dumps(game) for game in ordered)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = path + ".partial"
    with open(partial, "w") as handle:
        handle.write('{"games": [\n' + lines + ("\n" if lines else "") + "]}\n")
    os.replace(partial, path)


def plan(opponents: Sequence[str], configs: Sequence[str], seeds: Sequence[int], controllers: Sequence[str],
         agent_version: str, done: Iterable[Tuple] = ()) -> List[Task]:
    """Every game for our agent at `agent_version` to play, fast opponents first, the controllers of one seed
    and seat next to each other; configs an opponent does not support and games already `done` (their keys,
    which include the version) are left out."""
    done = set(done)
    ranked = sorted(opponents, key=lambda name: PLAY_ORDER.index(name) if name in PLAY_ORDER else len(PLAY_ORDER))
    tasks = []
    for opponent in ranked:
        for config in configs:
            if config not in opponent_configs(opponent):
                continue
            for seed in seeds:
                for seat in PLAYERS:
                    for controller in controllers:
                        task = Task(opponent, config, seed, seat, controller, agent_version)
                        if task.key() not in done:
                            tasks.append(task)
    return tasks


def available_opponents(names: Sequence[str], sparring_dir: str, log: Callable[[str], Any] = print) -> List[str]:
    """`names` less the sparring partners not set up under `sparring_dir` (each skipped with a message)."""
    found = []
    for name in names:
        partner = SPARRING_PARTNERS.get(name)
        reason = partner.missing(sparring_dir) if partner is not None else None
        if reason:
            log(f"skipping {name}: {reason}")
        else:
            found.append(name)
    return found


# (task, our agent's main.py, the opponent's main.py, episode length) -> (task, record or None, log lines)
Job = Tuple[Task, str, str, int, Optional[str]]  # task, our main.py, theirs, max episode length, replay path
Played = Tuple[Task, Optional[Dict[str, Any]], List[str]]


def replay_path(replay_dir: str, task: Task) -> str:
    """Where a game's replay is kept: <opponent>_<config>_seed<seed>_<seat>_<controller>_<version>.json."""
    version = re.sub(r"[^A-Za-z0-9._-]", "_", task.agent_version)
    return os.path.join(replay_dir, f"{task.opponent}_{task.config}_seed{task.seed}_{task.seat}_{task.controller}_"
                                    f"{version}.json")


def play_task(job: Job) -> Played:
    """Play one ladder game through the runner. Never raises: a game that cannot be played comes back without
    a record, with the reason in its log lines."""
    task, agent, opponent, max_episode_length, replay_path = job
    pair = (agent, opponent) if task.seat == PLAYERS[0] else (opponent, agent)
    try:
        result = play_game(pair[0], pair[1], seed=task.seed, config=task.config, timing=RUNNER_TIMING,
                           max_episode_length=max_episode_length,
                           replay_paths=[replay_path] if replay_path else ())
    except Exception as exc:  # the runner itself failed: nothing to record, the game is played on resume
        return task, None, [f"game failed: {type(exc).__name__}: {exc}"]
    ours = result.players[task.seat]
    stderr = ours.stderr
    # Our agent logs when it leaves the policy for the heuristic controller (slow turns, a failure) and when a
    # part of it fails: worth knowing when its games are reported as the policy's.
    flagged = [line.strip() for line in stderr.splitlines() if "failed" in line or "from now on" in line]
    notes = [f"our agent: {line}" for line in flagged[:MAX_NOTES]]
    if len(flagged) > MAX_NOTES:
        notes.append(f"our agent: {len(flagged) - MAX_NOTES} more such line(s)")
    if ours.errors:
        notes.append(f"our agent: {ours.errors} error(s), failure {ours.failure!r}; stderr tail:\n{stderr[-2000:]}")
    theirs = result.players[PLAYERS[1 - PLAYERS.index(task.seat)]]
    if theirs.errors:
        notes.append(f"opponent: {theirs.errors} error(s), failure {theirs.failure!r}; stderr tail:\n"
                     f"{theirs.stderr[-2000:]}")
    return task, game_record(task, result), notes


def _results(jobs: Sequence[Job], workers: int, play: Callable[[Job], Played]) -> Iterator[Played]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield play(job)
        return
    # spawn: each worker imports the engine afresh (the arena patches module state while a game runs)
    with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        yield from pool.imap_unordered(play, jobs)


def _check_policy_loads(agent: str) -> None:
    """Games reported as the policy's must be played by it: the agent would fall back to the heuristic controller
    silently (to its stderr) when its weights do not load. Raises FileNotFoundError or the loader's error."""
    from magma_policy.runtime import load_policy

    weights = os.environ.get(WEIGHTS_ENV) or os.path.join(os.path.dirname(agent), "weights", "policy.onnx")
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"policy weights not found: {weights}")
    load_policy(weights)


def run_ladder(json_path: str, opponents: Sequence[str], configs: Sequence[str], seeds: Sequence[int],
               controllers: Sequence[str], workers: int = 1, sparring_dir: str = SPARRING_DIR,
               agent: str = os.path.join(REPO_ROOT, "main.py"), report_path: Optional[str] = None,
               max_episode_length: int = 1000, play: Callable[[Job], Played] = play_task,
               log: Callable[[str], Any] = print, agent_version: Optional[str] = None,
               replay_dir: Optional[str] = None) -> List[Dict[str, Any]]:
    """Play the ladder's missing games (resuming from `json_path`), recording each one as it finishes;
    return every game in the JSON. `report_path` (default: the JSON's path with .md) is rewritten after each
    game. `max_episode_length` shortens the games (quick checks only: such games are not comparable).
    `agent_version` names our agent's version (default: agent_version_of `agent`); only games of that version
    count as done. `play` plays one job (play_task; replaceable for tests). `replay_dir`: where each game's
    replay JSON is kept (`replay_path`; read with tools/replay_report.py). Raises ValueError on a bad request."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1-{MAX_WORKERS}, got {workers}")
    for name in opponents:
        if name not in OPPONENTS:
            raise ValueError(f"unknown opponent {name!r}; choose from {', '.join(OPPONENTS)}")
    for config in configs:
        if config not in GAME_CONFIGS:
            raise ValueError(f"unknown game config {config!r}; choose from {', '.join(GAME_CONFIGS)}")
    for controller in controllers:
        if controller not in CONTROLLERS:
            raise ValueError(f"unknown controller {controller!r}; choose from {', '.join(CONTROLLERS)}")
    if agent_version is not None and not agent_version.strip():
        raise ValueError("the agent version must not be empty")
    report_path = report_path or os.path.splitext(json_path)[0] + ".md"
    version = agent_version.strip() if agent_version else agent_version_of(agent, ignore=(json_path, report_path))
    games = load_games(json_path)
    by_key = {}
    for game in games:
        by_key.setdefault(game_key(game), game)
    found = available_opponents(opponents, sparring_dir, log)
    if not found:
        raise FileNotFoundError(f"none of the opponents asked for ({', '.join(opponents)}) is set up")
    skipped = [(o, c) for o in found for c in configs if c not in opponent_configs(o)]
    for name, config in skipped:
        log(f"{name} plays only {', '.join(opponent_configs(name))}: no {config} games")
    tasks = plan(found, configs, seeds, controllers, version, done=by_key)
    asked = len(plan(found, configs, seeds, controllers, version))
    log(f"agent version {version}: {asked - len(tasks)} of {asked} games already in {json_path}; "
        f"{len(tasks)} to play on {min(workers, max(len(tasks), 1))} worker(s)")
    if not tasks:
        write_report(list(by_key.values()), report_path, json_path)
        return list(by_key.values())
    agent = os.path.abspath(agent)
    if "policy" in controllers and play is play_task:
        _check_policy_loads(agent)
    with tempfile.TemporaryDirectory(prefix="lux_ladder_") as scratch:
        ours = {c: agent_with_env(agent, {UNIT_CONTROLLER_ENV: c}, os.path.join(scratch, f"agent_{c}"))
                for c in controllers}
        theirs = {name: resolve_opponent(name, agent, os.path.join(scratch, "opponents"), sparring_dir)[1]
                  for name in found}
        if replay_dir:
            os.makedirs(replay_dir, exist_ok=True)
        jobs = [(task, ours[task.controller], theirs[task.opponent], max_episode_length,
                 replay_path(replay_dir, task) if replay_dir else None) for task in tasks]
        start, failed = time.time(), 0
        for done, (task, record, notes) in enumerate(_results(jobs, workers, play), 1):
            head = (f"[{done}/{len(jobs)}] {task.opponent} {task.config} seed {task.seed} as {task.seat}, "
                    f"{task.controller} controller")
            if record is None:
                failed += 1
                log(f"{head}: not recorded ({time.time() - start:.0f}s)")
            else:
                by_key[task.key()] = record
                save_games(json_path, by_key.values())
                write_report(list(by_key.values()), report_path, json_path)
                log(f"{head}: {record['result']} at step {record['steps']}, lichen {record['lichen']} vs "
                    f"{record['opponent_lichen']}, factories {record['factories_alive']} vs "
                    f"{record['opponent_factories_alive']}, robots {record['robots_alive']} vs "
                    f"{record['opponent_robots_alive']}, errors {record['agent_errors']}, invalid "
                    f"{record['agent_invalid_actions']}, turn max {record['max_turn_s']:.2f}s "
                    f"({time.time() - start:.0f}s)")
            for note in notes:
                log(f"    {note}")
    if failed:
        log(f"{failed} game(s) could not be played; rerun the same command to retry them")
    return list(by_key.values())


# ---------------------------------------------------------------- the report


@dataclass
class Row:
    """The games of one (agent version, opponent, config, controller), from our agent's side."""

    agent_version: str
    opponent: str
    config: str
    controller: str
    games: int
    wins: int
    draws: int
    losses: int
    win_ci: Tuple[float, float]
    lichen: float
    opponent_lichen: float
    factories_alive: float
    opponent_factories_alive: float
    robots_alive: float
    opponent_robots_alive: float
    robots_wiped_out: int  # games in which our robot count fell to 0 at some point
    factories_lost: int  # games in which we lost our last factory
    agent_errors: int
    agent_invalid_actions: int
    mean_turn_s: float
    max_turn_s: float

    @property
    def win_rate(self) -> float:
        return self.wins / self.games if self.games else 0.0


def _mean(values: Sequence[float]) -> float:
    return float(sum(values)) / len(values) if values else 0.0


def _commit_time(version: str) -> int:
    """When the commit named by `version` was made (0 when this repository does not know it)."""
    commit = version[:-len("+dirty")] if version.endswith("+dirty") else version
    if not commit or not all(c in "0123456789abcdef" for c in commit):
        return 0
    out = _git(REPO_ROOT, "log", "-1", "--format=%ct", commit + "^{commit}", "--")
    try:
        return int(out.strip()) if out else 0
    except ValueError:
        return 0


def versions_newest_first(games: Sequence[Dict[str, Any]]) -> List[str]:
    """The agent versions in `games`, the most recently recorded first. Versions whose games carry no record time
    (recorded before it was kept) come after the others, ordered by their commit's time when this repository has
    it, newest first."""
    latest: Dict[str, str] = {}
    for game in games:
        version = game["agent_version"]
        latest[version] = max(latest.get(version, ""), game.get("recorded") or "")
    untimed = {v: _commit_time(v) for v, t in latest.items() if not t}
    return sorted(latest, key=lambda v: (latest[v], untimed.get(v, 0), v), reverse=True)


def _by_version(games: Sequence[Dict[str, Any]], versions: Sequence[str]) -> List[Dict[str, Any]]:
    """`games` newest version first, in the report's order within a version."""
    rank = {v: i for i, v in enumerate(versions)}
    return sorted(games, key=lambda g: (rank[g["agent_version"]],) + _sort_key(g))


def summarise(games: Sequence[Dict[str, Any]], versions: Optional[Sequence[str]] = None) -> List[Row]:
    """One Row per (agent version, opponent, config, controller), in the report's order: `versions` (default:
    versions_newest_first) first to last, then by opponent, config and controller."""
    versions = versions_newest_first(games) if versions is None else versions
    groups: Dict[Tuple[str, str, str, str], List[Dict[str, Any]]] = {}
    for game in _by_version(games, versions):
        if game["result"] not in RESULTS:
            raise ValueError(f"unknown result {game['result']!r} in {game}")
        key = (game["agent_version"], game["opponent"], game["config"], game["controller"])
        groups.setdefault(key, []).append(game)
    rows = []
    for (version, opponent, config, controller), played in groups.items():
        wins = sum(1 for g in played if g["result"] == "win")
        draws = sum(1 for g in played if g["result"] == "draw")
        rows.append(Row(
            agent_version=version, opponent=opponent, config=config, controller=controller, games=len(played),
            wins=wins, draws=draws,
            losses=len(played) - wins - draws, win_ci=wilson_interval(wins, len(played)),
            lichen=_mean([g["lichen"] for g in played]),
            opponent_lichen=_mean([g["opponent_lichen"] for g in played]),
            factories_alive=_mean([g["factories_alive"] for g in played]),
            opponent_factories_alive=_mean([g["opponent_factories_alive"] for g in played]),
            robots_alive=_mean([g["robots_alive"] for g in played]),
            opponent_robots_alive=_mean([g["opponent_robots_alive"] for g in played]),
            robots_wiped_out=sum(1 for g in played if g["last_robot_lost_step"] is not None),
            factories_lost=sum(1 for g in played if g["last_factory_lost_step"] is not None),
            agent_errors=sum(g["agent_errors"] for g in played),
            agent_invalid_actions=sum(g["agent_invalid_actions"] for g in played),
            mean_turn_s=_mean([g["mean_turn_s"] for g in played]),
            max_turn_s=max(g["max_turn_s"] for g in played),
        ))
    return rows


def pairs(games: Sequence[Dict[str, Any]],
          versions: Optional[Sequence[str]] = None) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """(policy game, heuristic game) of every (agent version, opponent, config, seed, seat) played with both
    controllers: a game is paired only with one of the same version. In the order of `versions` (default:
    versions_newest_first)."""
    versions = versions_newest_first(games) if versions is None else versions
    by_key = {game_key(g): g for g in games}
    found = []
    for game in _by_version(games, versions):
        if game["controller"] != "policy":
            continue
        key = game_key(game)
        twin = by_key.get(key[:4] + ("heuristic",) + key[5:])
        if twin is not None:
            found.append((game, twin))
    return found


def _step(value: Optional[int]) -> str:
    return "-" if value is None else str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _version_line(version: str, games: Sequence[Dict[str, Any]], newest: bool) -> str:
    times = [g["recorded"] for g in games if g.get("recorded")]
    when = f"last game recorded {max(times)}" if times else "recorded before record times were kept"
    return f"- `{version}`{' (newest)' if newest else ''}: {len(games)} games, {when}."


def report(games: Sequence[Dict[str, Any]], source: str = "ladder.json") -> str:
    """The markdown report of the ladder's games: summary, paired controllers, every game; each part grouped by
    our agent's version, the most recently recorded first."""
    versions = versions_newest_first(games)
    lines = [
        "# Ladder",
        "",
        "Our agent (`main.py`) against independent bots (sparring partners, set up outside the project: "
        "`../shared/opponents/README.md`) and against itself with the heuristic unit controller (`heuristic`), "
        "through the official runner, both seats per seed. `controller`: our agent's unit controller "
        "(`LUX_UNIT_CONTROLLER`).",
        "",
        f"Written by `tools/ladder.py` from `{source}` ({len(games)} games); "
        "`.venv/bin/python tools/ladder.py --report-only` rewrites it.",
        "",
        "`version`: the version of our agent that played, the short git commit of its work tree when the run "
        "started (`+dirty`: with uncommitted changes to tracked files; `unknown`: not in git; or the name given "
        "with `--agent-version`). Games of different versions are never counted or paired together. Every table "
        "lists the newest version first: the one recorded most recently (games without a record time: the latest "
        "commit):",
        "",
    ]
    for i, version in enumerate(versions):
        lines.append(_version_line(version, [g for g in games if g["agent_version"] == version], i == 0))
    lines += [
        "",
        "- Result by the engine's rule (`lux.rules.decide_winner`): the higher final reward wins, lichen on the "
        "board, or -1000 for a side that lost every factory, errored or had a whole turn rejected.",
        "- Win rate with its 95% Wilson interval. Lichen, factories and robots: at the end of the game, ours "
        "(the opponent's).",
        "- Robots wiped out: games in which our robot count fell to 0 (in the games table, the step it last did). "
        "Factories lost: games in which we lost our last factory (the step).",
        "- Errors: our turns without a usable answer (crash, time-out, unparsable). Invalid: our actions the "
        "engine rejected; a rejected action left in a robot's queue counts at every step it is tried again.",
        "- Turn times: our agent's, over the turns after the first (the first includes its start-up).",
        "",
        "## Summary",
        "",
    ]
    rows = summarise(games, versions)
    lines += _table(
        ("version", "opponent", "config", "controller", "games", "W/D/L", "win rate (95% CI)", "lichen (opp.)",
         "factories alive (opp.)", "robots alive (opp.)", "robots wiped out", "factories lost", "errors",
         "invalid", "turn mean / max (s)"),
        ((r.agent_version, r.opponent, r.config, r.controller, r.games, f"{r.wins}/{r.draws}/{r.losses}",
          f"{r.win_rate:.2f} ({r.win_ci[0]:.2f}-{r.win_ci[1]:.2f})", f"{r.lichen:,.0f} ({r.opponent_lichen:,.0f})",
          f"{r.factories_alive:.1f} ({r.opponent_factories_alive:.1f})",
          f"{r.robots_alive:.1f} ({r.opponent_robots_alive:.1f})", f"{r.robots_wiped_out}/{r.games}",
          f"{r.factories_lost}/{r.games}", r.agent_errors, r.agent_invalid_actions,
          f"{r.mean_turn_s:.3f} / {r.max_turn_s:.3f}") for r in rows))
    paired = pairs(games, versions)
    if paired:
        lines += ["", "## Policy against heuristic controller, paired", "",
                  "The same agent version, opponent, config, seed and seat played by our agent with each unit "
                  "controller.", ""]
        groups: Dict[Tuple[str, str, str], List[Tuple[Dict[str, Any], Dict[str, Any]]]] = {}
        for policy, heuristic in paired:
            key = (policy["agent_version"], policy["opponent"], policy["config"])
            groups.setdefault(key, []).append((policy, heuristic))

        def wdl(games_: Sequence[Dict[str, Any]]) -> str:
            return "/".join(str(sum(1 for g in games_ if g["result"] == r)) for r in RESULTS)

        lines += _table(
            ("version", "opponent", "config", "pairs", "policy W/D/L", "heuristic W/D/L", "only policy won",
             "only heuristic won", "lichen policy / heuristic"),
            ((version, opponent, config, len(group), wdl([p for p, _ in group]), wdl([h for _, h in group]),
              sum(1 for p, h in group if p["result"] == "win" and h["result"] != "win"),
              sum(1 for p, h in group if h["result"] == "win" and p["result"] != "win"),
              f"{_mean([p['lichen'] for p, _ in group]):,.0f} / {_mean([h['lichen'] for _, h in group]):,.0f}")
             for (version, opponent, config), group in groups.items()))
        lines += [""]
        lines += _table(
            ("version", "opponent", "config", "seed", "seat", "result policy / heuristic",
             "lichen policy / heuristic", "opp. lichen", "robots alive policy / heuristic"),
            ((p["agent_version"], p["opponent"], p["config"], p["seed"], p["seat"], f"{p['result']} / {h['result']}",
              f"{p['lichen']:,} / {h['lichen']:,}", f"{p['opponent_lichen']:,} / {h['opponent_lichen']:,}",
              f"{p['robots_alive']} / {h['robots_alive']}") for p, h in paired))
    lines += ["", "## Games", ""]
    lines += _table(
        ("version", "opponent", "config", "controller", "seed", "seat", "result", "steps", "lichen (opp.)",
         "factories (opp.)", "robots (opp.)", "last robot lost", "last factory lost", "errors", "invalid",
         "turn mean / max (s)"),
        ((g["agent_version"], g["opponent"], g["config"], g["controller"], g["seed"], g["seat"], g["result"],
          g["steps"], f"{g['lichen']:,} ({g['opponent_lichen']:,})",
          f"{g['factories_alive']} ({g['opponent_factories_alive']})",
          f"{g['robots_alive']} ({g['opponent_robots_alive']})", _step(g["last_robot_lost_step"]),
          _step(g["last_factory_lost_step"]), g["agent_errors"], g["agent_invalid_actions"],
          f"{g['mean_turn_s']:.3f} / {g['max_turn_s']:.3f}") for g in _by_version(games, versions)))
    return "\n".join(lines) + "\n"


def write_report(games: Sequence[Dict[str, Any]], report_path: str, json_path: str) -> None:
    source = os.path.relpath(os.path.abspath(json_path), REPO_ROOT)
    if source.startswith(".."):  # outside the project: its name is enough
        source = os.path.basename(json_path)
    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    partial = report_path + ".partial"
    with open(partial, "w") as handle:
        handle.write(report(games, source))
    os.replace(partial, report_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opponents", nargs="+", default=list(OPPONENTS), choices=OPPONENTS,
                        help="the opponents to play (default: all; sparring partners not set up are skipped)")
    parser.add_argument("--sparring-dir", default=SPARRING_DIR, help="where the sparring partners are set up")
    parser.add_argument("--seeds", default="0-9", help="seed list, e.g. '0-9' or '1,5' (each played in both seats)")
    parser.add_argument("--configs", nargs="+", default=list(GAME_CONFIGS), choices=list(GAME_CONFIGS),
                        help="game configs (NeurIPS only against the opponents that support it)")
    parser.add_argument("--controller", nargs="+", default=["policy"], choices=CONTROLLERS,
                        help="our agent's unit controller(s); both: games paired by seed and seat")
    parser.add_argument("--workers", type=int, default=1, help=f"games at once (1-{MAX_WORKERS})")
    parser.add_argument("--agent", default=os.path.join(REPO_ROOT, "main.py"), help="our agent's main.py")
    parser.add_argument("--agent-version", default=None, metavar="TEXT",
                        help="our agent's version in the records (default: the short git commit of --agent's work "
                             "tree, +dirty with uncommitted changes, 'unknown' outside git)")
    parser.add_argument("--out", default=DEFAULT_JSON, help="the ladder JSON (read to resume, written per game)")
    parser.add_argument("--report", default=None, help="the markdown report (default: --out with .md)")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the report from the JSON")
    parser.add_argument("--replays", default=None, metavar="DIR",
                        help="keep each game's replay JSON in DIR (about 10-35 MB a game against bot15), named "
                             "<opponent>_<config>_seed<seed>_<seat>_<controller>_<version>.json; read one with "
                             "tools/replay_report.py")
    args = parser.parse_args(argv)
    report_path = args.report or os.path.splitext(args.out)[0] + ".md"
    try:
        if args.report_only:
            games = load_games(args.out)
            write_report(games, report_path, args.out)
            print(f"{report_path}: {len(games)} games")
            return 0
        if not 1 <= args.workers <= MAX_WORKERS:
            parser.error(f"--workers must be 1-{MAX_WORKERS} (each game runs two agents)")
        start = time.time()
        games = run_ladder(args.out, args.opponents, args.configs, parse_seeds(args.seeds), args.controller,
                           workers=args.workers, sparring_dir=args.sparring_dir, agent=args.agent,
                           report_path=report_path, agent_version=args.agent_version, replay_dir=args.replays)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    print(f"{len(games)} games in {args.out}, report {report_path} ({time.time() - start:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
