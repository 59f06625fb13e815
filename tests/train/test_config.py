"""Training config: presets, command-line overrides, validation, JSON round trip, --help."""
from __future__ import annotations

import json
from dataclasses import fields

import pytest

from train.config import DEFAULT_PRESET, PRESETS, TrainConfig, build_parser, config_from_args


def test_presets_are_valid():
    for name, values in PRESETS.items():
        cfg = TrainConfig.from_dict(values)
        assert cfg.num_updates >= 1, name
    basic = TrainConfig.from_dict(PRESETS["basic"])
    assert (basic.kaggle_ratio, basic.opponent, basic.allow_watering) == (1.0, "selfplay", False)
    assert basic.reward_ice_delivered * 4 == pytest.approx(1.0)  # 1.0 per water-equivalent delivered
    assert basic.reward_ice_dug * 4 == pytest.approx(0.1)
    assert basic.reward_factory_lost < 0
    assert basic.reward_power_pickup > 0  # robots low on power are paid to refill at home
    assert len(basic.eval_seeds) >= 12 and basic.eval_episode_length == 1000


def test_the_fast_preset_is_the_basic_setting_on_the_quarter_network_with_a_cheaper_update():
    fast, basic = TrainConfig.from_dict(PRESETS["fast"]), TrainConfig.from_dict(PRESETS["basic"])
    assert fast.net_arch == "quarter" and basic.net_arch == "half" == TrainConfig().net_arch
    assert fast.update_epochs * fast.num_minibatches < basic.update_epochs * basic.num_minibatches / 8
    assert fast.clip_coef == 0.1 and fast.batch_size == basic.batch_size
    same = ("kaggle_ratio", "opponent", "allow_watering", "mode", "reward_ice_delivered", "reward_ice_dug",
            "reward_power_pickup", "reward_factory_lost", "reward_scale", "eval_seeds")
    assert all(getattr(fast, name) == getattr(basic, name) for name in same)
    cfg, _ = config_from_args(["--preset", "smoke", "--net-arch", "quarter"])
    assert cfg.net_arch == "quarter"
    with pytest.raises(SystemExit):
        config_from_args(["--net-arch", "eighth"])


def test_command_line_overrides():
    cfg, _ = config_from_args(["--preset", "basic", "--lr", "1e-4", "--separate-value", "false",
                               "--eval-seeds", "5,6", "--target-kl", "0.02", "--mode", "grouped"])
    assert cfg.learning_rate == 1e-4 and cfg.separate_value is False
    assert cfg.eval_seeds == [5, 6] and cfg.target_kl == 0.02 and cfg.mode == "grouped"
    assert cfg.num_envs == PRESETS["basic"]["num_envs"]


@pytest.mark.parametrize("argv, message", [
    (["--num-envs", "0"], "num_envs must be >= 1"),
    (["--mode", "solo"], "mode must be one of separated, grouped, global"),
    (["--reward-own-weight", "1.5"], "reward_own_weight must be in [0, 1]"),
    (["--kaggle-ratio", "-0.1"], "kaggle_ratio must be in [0, 1]"),
    (["--lr", "0"], "learning_rate must be > 0"),
    (["--policy-temperature", "0"], "policy_temperature must be > 0"),
    (["--opponent", "random"], "opponent must be one of"),
    (["--device", "tpu"], "device must be one of cpu, cuda"),
    (["--eval-every", "2", "--eval-seeds", ""], "eval_seeds must not be empty"),
])
def test_bad_values_rejected_with_clear_message(argv, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_args(["--preset", "smoke"] + argv)


def test_bad_types_and_unknown_fields_rejected():
    with pytest.raises(SystemExit):
        config_from_args(["--num-envs", "many"])
    with pytest.raises(SystemExit):
        config_from_args(["--norm-adv", "maybe"])
    with pytest.raises(ValueError, match="unknown config fields: bogus"):
        TrainConfig.from_dict({"bogus": 1})


def test_json_round_trip():
    cfg, _ = config_from_args(["--preset", "smoke", "--gamma", "0.95"])
    again = TrainConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg


def test_help_explains_every_option():
    text = build_parser().format_help()
    for f in fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text
    helps = {a.dest: a.help for a in build_parser()._actions}
    missing = [f.name for f in fields(TrainConfig) if not helps.get(f.name)]
    assert not missing, "options without help: %s" % missing


def test_help_shows_the_values_a_run_without_preset_gets():
    """Each option's "(default X)" is the value `python train/run.py` (the default preset) runs with."""
    import re

    applied, _ = config_from_args([])
    assert applied == TrainConfig.from_dict(PRESETS[DEFAULT_PRESET])
    shown = {}
    for action in build_parser()._actions:
        match = re.search(r"\(default (.*)\)$", action.help or "")
        if action.dest in {f.name for f in fields(TrainConfig)}:
            assert match, action.dest
            text = match.group(1)
            shown[action.dest] = None if text == "none" else (action.type(text) if action.type else text)
    assert shown == {f.name: getattr(applied, f.name) for f in fields(TrainConfig)}
    # The preset differs from the dataclass's own defaults, so this would catch help showing those.
    assert any(shown[name] != value for name, value in vars(TrainConfig()).items())
