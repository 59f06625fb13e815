"""Every hyper-parameter of a training run, in one dataclass, with presets and command-line overrides.

Presets:
  smoke    a tiny run that finishes in well under two minutes, ONNX export included (tests, CI)
  basic    the paper's basic-skills setting: Kaggle game (48 map, 2-5 factories), self-play with one network
           learning from both players, lichen watering masked, rewards for ice delivered and dug, plus one for
           power picked up at a factory by a robot low on it (robots that ran dry far from home starved their
           factories; docs/results/basic_run.md)
  fast     the basic setting on the cheaper network (`--net-arch quarter`: squeeze-and-excitation blocks at a
           quarter of the map's resolution) with a cheaper update: 2 epochs of 4 large minibatches, clip 0.1, one
           torch thread (a second one waits on any other work of the machine's two cores: 9x slower there)
           (docs/results/throughput.md)
  finetune PPO on from a policy that already plays (default --init-from weights/policy.onnx, the shipped one): a
           value-only phase with the policy frozen, then the policy's learning rate ramped up from 0; 32,768 env
           steps an update, 2 epochs, clip 0.1, epochs stopped past KL 0.02; KL toward the start policy and the
           heuristic controller's recorded choices in the loss; zero-sum rewards paid when they change (game result,
           lichen, factory and robot advantages); the other seat drawn per game from an opponent pool (the heuristic
           controller, the start policy, recent snapshots) weighted by how often each still beats the learner
           (docs/finetune.md). With --midgame-dir and --midgame-share games also start from recorded games' states.
  default  PPO from the imitation warm start (`python train/imitation.py`, then
           `--init-from runs/imitation/init.pt`): both game configs, lichen watering on as in play, team terms
           (lichen, factories) mixed into each robot's reward; what `python train/run.py` runs without --preset.
           The shipped policy (weights/policy.json) is not a PPO run: it is the imitation warm start itself,
           behavioural cloning of the heuristic controller plus DAgger rounds; the PPO stages tried from such
           policies did not beat it (docs/results/shipped_policy.md, docs/results/go_actions.md)

`--help` shows the default preset's value of every option, the values a run without --preset gets.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Sequence

from train.separation import GROUPINGS, MODES

OPPONENTS = ("selfplay", "heuristic", "checkpoints", "pool")
ENV_BACKENDS = ("subprocess", "ray")
DEVICES = ("cpu", "cuda")
NET_ARCHS = ("half", "quarter")  # magma_policy.network.ARCHS (not imported: the trainer's tests stub magma_policy)


@dataclass
class TrainConfig:
    # -- run ---------------------------------------------------------------------------------------------------
    exp_name: str = "magma"  # the run directory is runs/<exp_name>-<seed>-<time> unless --run-dir is given
    seed: int = 1  # seeds python, numpy, torch and the envs
    device: str = "cpu"  # torch device of the learner: cpu or cuda
    torch_threads: int = 1  # torch threads of the learner during rollouts (the workers take the other cores)
    update_threads: int = 2  # torch threads during the PPO update (the workers are idle then)
    total_timesteps: int = 102_400  # env steps (summed over envs) to train for
    # -- environments --------------------------------------------------------------------------------------------
    num_workers: int = 2  # env worker processes (0: run the envs in the learner's process)
    env_backend: str = "subprocess"  # where the env workers run: subprocess (here) | ray (one Ray actor per worker)
    ray_address: Optional[str] = None  # env_backend=ray: the cluster to join (auto, HOST:6379); none: start Ray here
    num_envs: int = 16  # parallel games, spread over the workers
    num_steps: int = 256  # steps per env per rollout (rollout = num_envs * num_steps env steps)
    kaggle_ratio: float = 1.0  # share of games on the Kaggle config (48 map, 2-5 factories); rest NeurIPS
    max_episode_length: int = 1000  # game length in real steps
    opponent: str = "selfplay"  # selfplay | heuristic (strategy.units plays the other seat) | checkpoints | pool
    #   (train/opponents.py: the heuristic controller, the start policy and recent snapshots, drawn per game)
    opponent_pool: int = 5  # with `checkpoints`: sample the other seat from this many recent checkpoints; with `pool`:
    #   this many recent snapshots of the learner
    pool_snapshot_every: int = 4  # opponent=pool: updates between snapshots of the learner joining the pool (none
    #   during the value warm-up)
    pool_rate: float = 0.05  # opponent=pool: per game, how fast an opponent's rate of beating the learner follows its
    #   results (exponential average; recent games count most)
    pool_floor: float = 0.05  # opponent=pool: the least draw weight of an opponent, however rarely it still wins (so
    #   the learner keeps meeting it)
    midgame_dir: Optional[str] = None  # a folder of recorded games (replay JSONs of the official runner:
    #   train/evaluate.py --replays, train/arena.py) to start training games from
    midgame_share: float = 0.0  # share of training games that start mid-game, at a random step of a recorded game in
    #   midgame_dir (0: every game starts at step 0)
    allow_watering: bool = False  # factory heuristic may water lichen (masked in the basic skills setting)
    max_units: int = 256  # trajectory slots per (env, player): the most robots one player can have alive
    # -- trajectory separation -------------------------------------------------------------------------------------
    mode: str = "separated"  # separated | grouped | global
    grouping: str = "random"  # with mode=grouped: factory (nearest own factory) | random
    n_groups: int = 16  # with grouping=random
    separate_reward: bool = True  # per-unit reward (false: every unit gets the team reward)
    separate_value: bool = True  # per-key value from the unit value head (false: the global value head)
    separate_logprob: bool = True  # per-key log-prob (false: summed over the player's units, one action)
    separate_entropy: bool = True  # per-key entropy (false: summed over the player's units)
    reward_own_weight: float = 1.0  # w in r_i = w * r_own_i + (1 - w) * r_team
    # -- rewards (per unit: own; per player: team) -------------------------------------------------------------------
    reward_ice_delivered: float = 0.25  # per ice delivered to a factory (1.0 per water-equivalent of 4)
    reward_ore_delivered: float = 0.0  # per ore delivered to a factory
    reward_ice_dug: float = 0.025  # per ice dug (0.1 per water-equivalent)
    reward_ore_dug: float = 0.0  # per ore dug
    reward_power_pickup: float = 0.0  # per 100 power picked up by a robot below a quarter battery
    reward_rubble_cleared: float = 0.0  # per rubble dug away near an own factory (room for lichen)
    reward_death: float = -1.0  # a robot destroyed
    reward_water_gained: float = 0.0  # team: per unit of factory water gained
    reward_factory_alive: float = 0.0  # team: per factory alive per step
    reward_factory_lost: float = -5.0  # team: per factory lost
    reward_survival: float = 0.0  # team: factories alive at the end of the game, per factory
    reward_lichen: float = 0.0  # team: per unit of lichen gained
    reward_result: float = 0.0  # zero-sum: at the game's end, + this for a win, - this for a loss, 0 for a draw
    reward_lichen_advantage: float = 0.0  # zero-sum: per unit of change of (own lichen - opponent's lichen)
    reward_factory_advantage: float = 0.0  # zero-sum: per unit of change of (own factories - opponent's factories)
    reward_robot_advantage: float = 0.0  # zero-sum: per unit of change of (own robots - opponent's robots)
    reward_scale: float = 1.0  # every reward is multiplied by this
    # -- PPO ---------------------------------------------------------------------------------------------------------
    learning_rate: float = 2e-4  # Adam step size (also --lr)
    anneal_lr: bool = True  # anneal the learning rate linearly to 0 over the run
    gamma: float = 0.99  # discount factor
    gae_lambda: float = 0.95  # GAE lambda
    num_minibatches: int = 8  # minibatches per epoch (drawn over observations)
    update_epochs: int = 2  # passes over each rollout
    norm_adv: bool = True  # normalise advantages over the minibatch's active entries
    clip_coef: float = 0.2  # PPO ratio clip (and value clip)
    clip_vloss: bool = True  # clip the value loss as PPO does
    ent_coef: float = 0.001  # entropy bonus coefficient
    policy_temperature: float = 1.0  # the trained policy is softmax(logits / T); play it with LUX_POLICY_TEMPERATURE=T
    vf_coef: float = 0.5  # value loss coefficient
    max_grad_norm: float = 0.5  # gradient norm clip
    target_kl: Optional[float] = None  # stop the epochs early past this approximate KL
    value_warmup_updates: int = 0  # first updates fit only the value heads, the policy frozen (for a policy started
    #   from init_from)
    actor_lr_ramp_updates: int = 0  # after the value warm-up the policy's learning rate rises from 0 to the full rate
    #   over this many updates (the value-only heads learn at the full rate throughout)
    anchor_coef: float = 0.0  # loss += anchor_coef * KL(policy || anchor): keeps PPO near the start policy
    anchor_from: Optional[str] = None  # the anchor's weights (default: init_from) when anchor_coef > 0
    anchor_temperature: float = 1.0  # the anchor is softmax(anchor logits / T); below 1 it nears its likeliest action
    teacher_coef: float = 0.0  # loss += teacher_coef * cross-entropy of the policy on the heuristic controller's
    #   recorded choices (train/teacher.py)
    teacher_games: int = 8  # teacher_coef > 0: heuristic self-play games recorded once at the run's start (kept in the
    #   run directory as teacher.pt)
    teacher_every: int = 4  # teacher_coef > 0: record every n-th step of those games
    teacher_batch: int = 64  # teacher_coef > 0: recorded player views drawn for each minibatch's teacher term
    # -- network (magma_policy.network.PolicyNet) ------------------------------------------------------------------
    net_arch: str = "half"  # half: trunk at half resolution (the shipped policy's) | quarter: SE blocks at a quarter
    net_channels: int = 32  # width of the network's map trunk
    net_blocks: int = 3  # residual blocks of the map trunk
    init_from: Optional[str] = None  # start from these weights (an init.pt, a checkpoint, an exported policy.onnx)
    # -- checkpoints, evaluation, export ----------------------------------------------------------------------------
    checkpoint_every: int = 1  # updates between checkpoints
    keep_checkpoints: int = 5  # newest checkpoints kept in the run directory
    eval_every: int = 4  # updates between evaluations (0: never); eval steps are not training steps
    eval_seeds: List[int] = field(default_factory=lambda: list(range(1000, 1012)))  # evaluation game seeds
    eval_greedy: bool = True  # evaluation plays the most likely action (false: samples)
    eval_episode_length: int = 1000  # real steps of an evaluation game (the full game)
    export_onnx: bool = True  # export the final policy to ONNX in the run directory
    export_to: Optional[str] = None  # also copy policy.onnx + policy.json here (e.g. weights/)

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return max(self.total_timesteps // self.batch_size, 1)

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad value."""
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        need(self.num_envs >= 1, "num_envs must be >= 1, got %d" % self.num_envs)
        need(self.num_steps >= 1, "num_steps must be >= 1, got %d" % self.num_steps)
        need(self.num_workers >= 0, "num_workers must be >= 0, got %d" % self.num_workers)
        need(self.env_backend in ENV_BACKENDS,
             "env_backend must be one of %s, got %r" % (", ".join(ENV_BACKENDS), self.env_backend))
        need(self.env_backend != "ray" or self.num_workers >= 1,
             "env_backend=ray needs num_workers >= 1 (the number of Ray actors), got %d" % self.num_workers)
        need(self.torch_threads >= 1, "torch_threads must be >= 1, got %d" % self.torch_threads)
        need(self.update_threads >= 1, "update_threads must be >= 1, got %d" % self.update_threads)
        need(self.total_timesteps >= 1, "total_timesteps must be >= 1, got %d" % self.total_timesteps)
        need(0.0 <= self.kaggle_ratio <= 1.0, "kaggle_ratio must be in [0, 1], got %s" % self.kaggle_ratio)
        need(1 <= self.max_episode_length <= 1000,
             "max_episode_length must be in [1, 1000], got %d" % self.max_episode_length)
        need(self.opponent in OPPONENTS, "opponent must be one of %s, got %r" % (", ".join(OPPONENTS), self.opponent))
        need(self.opponent_pool >= 1, "opponent_pool must be >= 1, got %d" % self.opponent_pool)
        need(self.pool_snapshot_every >= 1, "pool_snapshot_every must be >= 1, got %d" % self.pool_snapshot_every)
        need(0.0 < self.pool_rate <= 1.0, "pool_rate must be in (0, 1], got %s" % self.pool_rate)
        need(0.0 < self.pool_floor <= 1.0, "pool_floor must be in (0, 1], got %s" % self.pool_floor)
        need(0.0 <= self.midgame_share <= 1.0, "midgame_share must be in [0, 1], got %s" % self.midgame_share)
        need(self.midgame_share == 0 or bool(self.midgame_dir),
             "midgame_share > 0 needs a folder of recorded games: give --midgame-dir DIR")
        need(self.max_units >= 1, "max_units must be >= 1, got %d" % self.max_units)
        need(self.mode in MODES, "mode must be one of %s, got %r" % (", ".join(MODES), self.mode))
        need(self.grouping in GROUPINGS, "grouping must be one of %s, got %r" % (", ".join(GROUPINGS), self.grouping))
        need(self.n_groups >= 1, "n_groups must be >= 1, got %d" % self.n_groups)
        need(0.0 <= self.reward_own_weight <= 1.0,
             "reward_own_weight must be in [0, 1], got %s" % self.reward_own_weight)
        need(self.learning_rate > 0, "learning_rate must be > 0, got %s" % self.learning_rate)
        need(0.0 <= self.gamma <= 1.0, "gamma must be in [0, 1], got %s" % self.gamma)
        need(0.0 <= self.gae_lambda <= 1.0, "gae_lambda must be in [0, 1], got %s" % self.gae_lambda)
        need(self.num_minibatches >= 1, "num_minibatches must be >= 1, got %d" % self.num_minibatches)
        need(self.num_minibatches <= self.batch_size * 2,
             "num_minibatches (%d) must not exceed the observations per rollout (%d)"
             % (self.num_minibatches, self.batch_size * 2))
        need(self.update_epochs >= 1, "update_epochs must be >= 1, got %d" % self.update_epochs)
        need(self.clip_coef > 0, "clip_coef must be > 0, got %s" % self.clip_coef)
        need(self.vf_coef >= 0, "vf_coef must be >= 0, got %s" % self.vf_coef)
        need(self.ent_coef >= 0, "ent_coef must be >= 0, got %s" % self.ent_coef)
        need(self.policy_temperature > 0, "policy_temperature must be > 0, got %s" % self.policy_temperature)
        need(self.max_grad_norm > 0, "max_grad_norm must be > 0, got %s" % self.max_grad_norm)
        need(self.value_warmup_updates >= 0, "value_warmup_updates must be >= 0, got %d" % self.value_warmup_updates)
        need(self.actor_lr_ramp_updates >= 0, "actor_lr_ramp_updates must be >= 0, got %d" % self.actor_lr_ramp_updates)
        need(self.teacher_coef >= 0, "teacher_coef must be >= 0, got %s" % self.teacher_coef)
        need(self.teacher_games >= 1, "teacher_games must be >= 1, got %d" % self.teacher_games)
        need(self.teacher_every >= 1, "teacher_every must be >= 1, got %d" % self.teacher_every)
        need(self.teacher_batch >= 1, "teacher_batch must be >= 1, got %d" % self.teacher_batch)
        need(self.anchor_coef >= 0, "anchor_coef must be >= 0, got %s" % self.anchor_coef)
        need(self.anchor_temperature > 0, "anchor_temperature must be > 0, got %s" % self.anchor_temperature)
        need(self.anchor_coef == 0 or bool(self.anchor_from or self.init_from),
             "anchor_coef > 0 needs the anchor's weights: give --anchor-from PATH or --init-from PATH")
        need(self.target_kl is None or self.target_kl > 0, "target_kl must be > 0 when set, got %s" % self.target_kl)
        need(self.net_arch in NET_ARCHS,
             "net_arch must be one of %s, got %r" % (", ".join(NET_ARCHS), self.net_arch))
        need(self.net_channels >= 1, "net_channels must be >= 1, got %d" % self.net_channels)
        need(self.net_blocks >= 0, "net_blocks must be >= 0, got %d" % self.net_blocks)
        need(self.checkpoint_every >= 1, "checkpoint_every must be >= 1, got %d" % self.checkpoint_every)
        need(self.keep_checkpoints >= 1, "keep_checkpoints must be >= 1, got %d" % self.keep_checkpoints)
        need(self.eval_every >= 0, "eval_every must be >= 0, got %d" % self.eval_every)
        need(self.eval_every == 0 or len(self.eval_seeds) >= 1, "eval_seeds must not be empty when eval_every > 0")
        need(1 <= self.eval_episode_length <= 1000,
             "eval_episode_length must be in [1, 1000], got %d" % self.eval_episode_length)
        need(self.device in DEVICES, "device must be one of %s, got %r" % (", ".join(DEVICES), self.device))
        need(self.reward_scale > 0, "reward_scale must be > 0, got %s" % self.reward_scale)
        return self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError("unknown config fields: %s" % ", ".join(unknown))
        return cls(**data).validate()


DEFAULT_PRESET = "default"  # the preset of a run started without --preset
PRESETS: Dict[str, Dict[str, Any]] = {
    "smoke": dict(exp_name="smoke", total_timesteps=64, num_envs=2, num_steps=16, num_workers=1,
                  max_episode_length=24, num_minibatches=2, update_epochs=1, net_channels=8, net_blocks=1,
                  checkpoint_every=1, eval_every=2, eval_seeds=[1000, 1001], eval_episode_length=24),
    "basic": dict(exp_name="basic", total_timesteps=49_152, num_envs=16, num_steps=128, kaggle_ratio=1.0,
                  opponent="selfplay", allow_watering=False, mode="separated", net_channels=16, net_blocks=2,
                  learning_rate=1e-3, update_epochs=8, num_minibatches=16, reward_scale=0.1, clip_vloss=False,
                  reward_power_pickup=0.5, eval_every=4, eval_greedy=False, eval_seeds=list(range(1000, 1012))),
    "fast": dict(exp_name="fast", total_timesteps=49_152, num_envs=16, num_steps=128, kaggle_ratio=1.0,
                 opponent="selfplay", allow_watering=False, mode="separated", net_arch="quarter", net_channels=32,
                 net_blocks=2, learning_rate=1e-3, update_epochs=2, num_minibatches=4, clip_coef=0.1, update_threads=1,
                 reward_scale=0.1, clip_vloss=False, reward_power_pickup=0.5, eval_every=4, eval_greedy=False,
                 eval_seeds=list(range(1000, 1012))),
    # Fine-tuning a policy that already plays (the shipped imitation policy by default): docs/finetune.md says why
    # each value.
    "finetune": dict(exp_name="finetune", init_from="weights/policy.onnx", net_arch="half", net_channels=24,
                     net_blocks=3, total_timesteps=3_276_800, num_envs=32, num_steps=1024, kaggle_ratio=1.0,
                     allow_watering=True, mode="separated", learning_rate=1e-4, anneal_lr=True, gamma=0.998,
                     gae_lambda=0.95, update_epochs=2, num_minibatches=16, clip_coef=0.1, clip_vloss=False,
                     target_kl=0.02, ent_coef=0.0, value_warmup_updates=10, actor_lr_ramp_updates=10,
                     anchor_coef=0.005, teacher_coef=0.05, teacher_games=8, teacher_every=4, teacher_batch=64,
                     opponent="pool", opponent_pool=4, pool_snapshot_every=4, pool_rate=0.05, pool_floor=0.05,
                     reward_own_weight=0.0, reward_scale=1.0, reward_ice_delivered=0.0, reward_ice_dug=0.0,
                     reward_death=0.0, reward_factory_lost=0.0, reward_result=1.0, reward_lichen_advantage=1e-4,
                     reward_factory_advantage=0.3, reward_robot_advantage=0.02, checkpoint_every=1,
                     eval_every=8, eval_greedy=True, eval_seeds=list(range(1000, 1012))),
    "default": dict(exp_name="default", total_timesteps=98_304, num_envs=16, num_steps=128, kaggle_ratio=0.5,
                    opponent="selfplay", allow_watering=True, mode="separated", net_channels=16, net_blocks=2,
                    learning_rate=2e-4, update_epochs=4, num_minibatches=16, reward_scale=0.1, clip_vloss=False,
                    value_warmup_updates=2, reward_own_weight=0.75, reward_ore_delivered=0.25, reward_ore_dug=0.025,
                    reward_lichen=0.02, reward_survival=10.0, eval_every=8, eval_greedy=False,
                    eval_seeds=list(range(1000, 1012))),
}


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError("expected true/false, got %r" % text)


def _parse_optional_float(text: str) -> Optional[float]:
    return None if text.strip().lower() in ("none", "") else float(text)


def _parse_optional_str(text: str) -> Optional[str]:
    return None if text.strip().lower() in ("none", "") else text


def _parse_int_list(text: str) -> List[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers, got %r" % text) from None


def _field_help() -> Dict[str, str]:
    """The comment after each field in this file's source is its --help text; comment lines right below a field
    that start with "#  " (two spaces) continue it."""
    import inspect

    out: Dict[str, str] = {}
    name = None
    for line in inspect.getsource(TrainConfig).splitlines():
        line = line.strip()
        if name is not None and line.startswith("#  "):
            out[name] += " " + line[1:].strip()
            continue
        name = None
        if ":" in line and "=" in line and not line.startswith(("#", "def", "@", "return", "need")):
            name = line.split(":", 1)[0].strip()
            comment = line.split("#", 1)[1].strip() if "#" in line else ""
            out[name] = comment
    return out


def show_value(value: Any) -> str:
    """A config value as the command line writes it (so that its option's parser reads it back)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python train/run.py",
        description="M-PPO with trajectory separation for Lux AI Season 2. Every config field can be set with "
                    "--field-name VALUE (booleans take true/false); a preset gives the starting values, and the "
                    "defaults shown are those of the %s preset (presets: %s). --resume and --evaluate start from "
                    "the run's saved config instead."
                    % (DEFAULT_PRESET, "; ".join("%s: %s" % (name, ", ".join("%s=%s" % kv for kv in values.items()
                                                                             if kv[0] != "eval_seeds"))
                                                 for name, values in PRESETS.items())))
    parser.add_argument("--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET,
                        help="starting values (default %s)" % DEFAULT_PRESET)
    parser.add_argument("--run-dir", default=None, help="run directory (default runs/<exp_name>-<seed>-<time>)")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the run in RUN_DIR from its latest checkpoint (its saved config is used; "
                             "options given here override it)")
    parser.add_argument("--export", metavar="RUN_DIR", default=None,
                        help="only export RUN_DIR's latest checkpoint to ONNX, then exit")
    parser.add_argument("--evaluate", metavar="RUN_DIR", default=None,
                        help="only play RUN_DIR's evaluation games with its latest checkpoint (its saved config; "
                             "--eval-seeds, --eval-greedy etc. given here override it), print the figures, then exit")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    helps = _field_help()
    defaults = TrainConfig(**PRESETS[DEFAULT_PRESET])  # what a run gets, not the dataclass's own defaults
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        text = "%s (default %s)" % (helps.get(f.name, ""), show_value(getattr(defaults, f.name)))
        kwargs: Dict[str, Any] = dict(dest=f.name, default=None, help=text.replace("%", "%%"))
        if f.name == "learning_rate":
            parser.add_argument("--lr", flag, type=float, **kwargs)
            continue
        if f.type in ("bool", bool):
            kwargs.update(type=_parse_bool, metavar="BOOL")
        elif f.type in ("int", int):
            kwargs.update(type=int)
        elif f.type in ("float", float):
            kwargs.update(type=float)
        elif f.name == "target_kl":
            kwargs.update(type=_parse_optional_float)
        elif f.name == "env_backend":
            kwargs.update(type=str, choices=ENV_BACKENDS)
        elif f.name == "net_arch":
            kwargs.update(type=str, choices=NET_ARCHS)
        elif f.name == "ray_address":
            kwargs.update(type=_parse_optional_str, metavar="ADDRESS")
        elif f.name == "eval_seeds":
            kwargs.update(type=_parse_int_list, metavar="S1,S2,...")
        else:
            kwargs.update(type=str)
        parser.add_argument(flag, **kwargs)
    return parser


def overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """The config fields given on the command line."""
    return {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}


def config_from_args(argv: Optional[Sequence[str]] = None, base: Optional[Dict[str, Any]] = None
                     ) -> tuple[TrainConfig, argparse.Namespace]:
    """Preset (or `base`, a saved config), then command-line overrides; validated."""
    parser = build_parser()
    args = parser.parse_args(argv)
    values: Dict[str, Any] = dict(base) if base is not None else dict(PRESETS[args.preset])
    values.update(overrides(args))
    return TrainConfig.from_dict(values), args
