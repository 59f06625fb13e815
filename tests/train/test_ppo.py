"""train/ppo.py: GAE per trajectory (births, deaths, episode ends), the rollout batch's index spaces, the loss
terms over active entries only, and the anchor's KL(policy || anchor)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from train.model import MASKED_LOGIT
from train.ppo import RolloutStorage, aggregate_units, anchor_kl, compute_gae, ppo_loss, trajectory_tensors
from train.separation import SeparationSwitches, mix_rewards
from train.workers import SeatObs

GAMMA, LAM = 0.9, 0.5


def hand_gae(rewards, values, dones, bootstrap):
    """Reference GAE for one trajectory written out step by step."""
    adv, nxt_adv = [0.0] * len(rewards), 0.0
    for t in reversed(range(len(rewards))):
        nv = bootstrap if t == len(rewards) - 1 else values[t + 1]
        delta = rewards[t] + GAMMA * nv * (1 - dones[t]) - values[t]
        nxt_adv = delta + GAMMA * LAM * (1 - dones[t]) * nxt_adv
        adv[t] = nxt_adv
    return adv


def test_gae_per_unit_with_birth_and_death():
    # One env, one player, 4 steps. Unit A (slot 0) lives through the rollout; unit B (slot 1) is born at t=1;
    # unit C (slot 2) dies after t=1 (absent at t=2).
    #   t:      0     1     2     3    | next
    #   A(0):  r=1   r=0   r=2   r=0   | v=0.5
    #   B(1):   -    r=3   r=0   r=1   | v=2.0
    #   C(2):  r=0   r=-1   -     -    |
    unit_obs = np.array([0, 0, 1, 1, 1, 2, 2, 3, 3])
    unit_key = np.array([0, 2, 0, 1, 2, 0, 1, 0, 1])
    unit_reward = np.array([1, 0, 0, 3, -1, 2, 0, 0, 1], dtype=np.float32)
    unit_value = np.array([1.0, 0.2, 0.8, 1.5, 0.4, 0.6, 1.2, 0.3, 0.9], dtype=np.float32)
    glob = np.zeros((4, 1), dtype=np.float32)
    ends = np.zeros((4, 1), dtype=bool)
    tt = trajectory_tensors(unit_obs, unit_key, unit_reward, unit_value, glob, ends,
                            next_keys=[np.array([0, 1])], next_unit_value=[np.array([0.5, 2.0])],
                            next_global_value=np.zeros(1), n_keys=3, value_separate=True)
    np.testing.assert_array_equal(tt["active"][:, 0, :], [[1, 0, 1], [1, 1, 1], [1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(tt["done"][:, 0, 2], [0, 1, 1, 1])  # C's death ends its trajectory at t=1
    adv, ret = compute_gae(tt["reward"], tt["value"], tt["done"], tt["active"], tt["last_value"], GAMMA, LAM)

    expect_a = hand_gae([1, 0, 2, 0], [1.0, 0.8, 0.6, 0.3], [0, 0, 0, 0], bootstrap=0.5)
    expect_b = hand_gae([3, 0, 1], [1.5, 1.2, 0.9], [0, 0, 0], bootstrap=2.0)
    expect_c = hand_gae([0, -1], [0.2, 0.4], [0, 1], bootstrap=0.0)
    np.testing.assert_allclose(adv[:, 0, 0], expect_a, rtol=1e-6)
    np.testing.assert_allclose(adv[1:, 0, 1], expect_b, rtol=1e-6)
    np.testing.assert_allclose(adv[:2, 0, 2], expect_c, rtol=1e-6)
    # A few numbers by hand: C at t=1: delta = -1 - 0.4 (no bootstrap past death).
    assert adv[1, 0, 2] == pytest.approx(-1.4)
    # B at t=3: delta = 1 + 0.9 * 2.0 - 0.9 = 1.9 (bootstrapped from the next observation).
    assert adv[3, 0, 1] == pytest.approx(1.9)
    # Inactive entries carry nothing.
    assert adv[0, 0, 1] == 0 and adv[2, 0, 2] == 0 and ret[3, 0, 2] == 0
    np.testing.assert_allclose(ret[tt["active"]], (adv + tt["value"])[tt["active"]], rtol=1e-6)


def test_episode_end_stops_bootstrap():
    unit_obs, unit_key = np.array([0, 1]), np.array([0, 0])
    ends = np.array([[True], [False]])
    tt = trajectory_tensors(unit_obs, unit_key, np.array([1.0, 1.0]), np.array([0.5, 0.5]),
                            np.zeros((2, 1)), ends, [np.array([0])], [np.array([0.5])], np.zeros(1), 1, True)
    adv, _ = compute_gae(tt["reward"], tt["value"], tt["done"], tt["active"], tt["last_value"], GAMMA, LAM)
    assert adv[0, 0, 0] == pytest.approx(1.0 - 0.5)  # no value of the next episode's first step
    assert adv[1, 0, 0] == pytest.approx(1.0 + GAMMA * 0.5 - 0.5)


def loss_for(mode_key: int, switches: SeparationSwitches, logprob, entropy, unit_value, global_value):
    unit_entry = torch.zeros(1, dtype=torch.long)
    unit_obs = torch.zeros(1, dtype=torch.long)
    entry_obs = torch.zeros(1, dtype=torch.long)
    logp, value, ent = aggregate_units(unit_entry, unit_obs, logprob, entropy, unit_value, global_value,
                                       entry_obs, 1, switches)
    return ppo_loss(logp, logprob.detach() - 0.1, torch.tensor([0.7]), value, torch.tensor([0.2]),
                    torch.tensor([1.0]), ent, 0.2, 0.5, 0.01, norm_adv=False)


def test_single_unit_w0_separated_equals_global():
    own = np.array([2.0])
    sep_r, _ = mix_rewards(own, team_terms=0.3, w=0.0, separate=True)
    glob_r, _ = mix_rewards(own, team_terms=0.3, w=0.0, separate=False)
    np.testing.assert_allclose(sep_r, glob_r)
    logprob = torch.tensor([-0.5], requires_grad=True)
    entropy = torch.tensor([1.2], requires_grad=True)
    value = torch.tensor([0.4], requires_grad=True)
    sep = loss_for(0, SeparationSwitches(True, True, True, True), logprob, entropy, value, value)
    glo = loss_for(0, SeparationSwitches(False, False, False, False), logprob, entropy, value, value)
    assert sep.loss.item() == pytest.approx(glo.loss.item())
    assert sep.policy_loss.item() == pytest.approx(glo.policy_loss.item())
    assert sep.value_loss.item() == pytest.approx(glo.value_loss.item())


def test_global_logprob_sums_player_units():
    logprob = torch.tensor([-0.5, -1.0, -2.0])
    ent = torch.tensor([1.0, 2.0, 3.0])
    unit_entry = torch.tensor([0, 1, 1])  # two keys of one observation
    unit_obs = torch.tensor([0, 0, 0])
    entry_obs = torch.tensor([0, 0])
    sep = aggregate_units(unit_entry, unit_obs, logprob, ent, ent, torch.tensor([9.0]), entry_obs, 2,
                          SeparationSwitches())
    torch.testing.assert_close(sep[0], torch.tensor([-0.5, -3.0]))  # group log-prob = sum over members
    torch.testing.assert_close(sep[1], torch.tensor([1.0, 2.5]))  # group value = mean over members
    glo = aggregate_units(unit_entry, unit_obs, logprob, ent, ent, torch.tensor([9.0]), entry_obs, 2,
                          SeparationSwitches(True, False, False, False))
    torch.testing.assert_close(glo[0], torch.tensor([-3.5, -3.5]))
    torch.testing.assert_close(glo[1], torch.tensor([9.0, 9.0]))
    torch.testing.assert_close(glo[2], torch.tensor([6.0, 6.0]))


def test_inactive_entries_get_no_gradient():
    # Dense [T=2, K=3] layout where only 3 entries are active: the loss over active entries must not depend
    # on the network outputs of the inactive ones.
    active = torch.tensor([[True, False, True], [False, True, False]])
    out = torch.randn(2, 3, requires_grad=True)
    logp = out[active]
    terms = ppo_loss(logp, logp.detach() + 0.05, torch.tensor([1.0, -0.5, 0.3]), out[active] * 2,
                     torch.zeros(3), torch.ones(3), -logp, 0.2, 0.5, 0.01)
    terms.loss.backward()
    assert torch.all(out.grad[~active] == 0)
    assert torch.all(out.grad[active] != 0)


def test_advantage_normalisation_over_active_only():
    adv = torch.tensor([1.0, 3.0])
    logp = torch.zeros(2, requires_grad=True)
    terms = ppo_loss(logp, torch.zeros(2), adv, torch.zeros(2), torch.zeros(2), torch.zeros(2),
                     torch.zeros(2), 0.2, 0.0, 0.0)
    # Normalised advantages are (-1/sqrt2, +1/sqrt2)*... with ratio 1: policy loss is -mean(norm adv) = 0.
    assert terms.policy_loss.item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="no active entries"):
        ppo_loss(torch.zeros(0), torch.zeros(0), torch.zeros(0), torch.zeros(0), torch.zeros(0), torch.zeros(0),
                 torch.zeros(0), 0.2, 0.5, 0.0)


# -- rollout storage -> batch ------------------------------------------------------------------------------


def seat(keys, size=4):
    n = len(keys)
    return SeatObs(np.ones((2, size, size), dtype=np.float16), np.zeros(3, dtype=np.float32),
                   np.zeros((n, 2), dtype=np.int64), np.zeros((n, 1), dtype=np.float32), np.ones((n, 5), dtype=bool),
                   np.array(keys, dtype=np.int64))


def out(logprob, unit_value, global_value):
    return dict(actions=np.zeros(len(logprob), dtype=np.int64), logprob=np.array(logprob, dtype=np.float32),
                unit_value=np.array(unit_value, dtype=np.float32),
                global_value=np.array(global_value, dtype=np.float32))


def test_finish_lines_up_units_entries_and_observations():
    # Two observations per step (B=2), two steps; grouped keys: at t=0 obs 0 has units in keys 0, 0, 1.
    store = RolloutStorage(num_steps=2, obs_per_step=2, n_keys=2)
    store.add([seat([0, 0, 1]), seat([])], out([-1, -2, -3], [1, 3, 5], [7, 8]),
              [np.array([1.0, 3.0, 0.0]), np.zeros(0)], [False, False])
    store.add([seat([1]), seat([0])], out([-4, -5], [2, 4], [6, 9]), [np.array([2.0]), np.array([1.0])], [False, True])
    batch, figures = store.finish([seat([1]), seat([])], out([-1], [10.0], [0, 0]), gamma=0.5, lam=1.0,
                                  switches=SeparationSwitches(), device=torch.device("cpu"))
    assert batch.n_obs == 4 and figures["rollout/unit_entries"] == 5
    # Active entries in (t, b, k) order: (0,0,0), (0,0,1), (1,0,1), (1,1,0).
    assert batch.entry_obs.tolist() == [0, 0, 2, 3]
    assert batch.unit_entry.tolist() == [0, 0, 1, 2, 3]
    torch.testing.assert_close(batch.old_logp, torch.tensor([-3.0, -3.0, -4.0, -5.0]))  # group = sum
    torch.testing.assert_close(batch.old_value, torch.tensor([2.0, 5.0, 2.0, 4.0]))  # group = mean
    # Key 0 of obs 0 dies after t=0 (absent at t=1): A = mean reward 2 - value 2 = 0.
    # Key 1 of obs 0: r=0 + 0.5 * 2 - 5 = -4, then at t=1 r=2 + 0.5 * 10 - 2 = 5: A_0 = -4 + 0.5 * 5 = -1.5.
    # Key 0 of obs 1 at t=1: the episode ended: A = 1 - 4 = -3.
    torch.testing.assert_close(batch.advantages, torch.tensor([0.0, -1.5, 5.0, -3.0]))
    torch.testing.assert_close(batch.returns, batch.advantages + batch.old_value)


def test_storage_rejects_wrong_shapes():
    store = RolloutStorage(num_steps=1, obs_per_step=2, n_keys=1)
    with pytest.raises(ValueError, match="expected 2 observations"):
        store.add([seat([0])], out([0], [0], [0]), [np.zeros(1)], [False])
    with pytest.raises(RuntimeError, match="rollout has 0 of 1 steps"):
        store.finish([], out([], [], []), 0.9, 0.9, SeparationSwitches(), torch.device("cpu"))


# -- anchor ---------------------------------------------------------------------------------------------------


def test_anchor_kl_is_zero_for_the_same_policy_and_the_kl_otherwise():
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    mask = torch.ones_like(logits, dtype=torch.bool)
    same = anchor_kl(logits, torch.log_softmax(logits, dim=1), mask)
    assert torch.allclose(same, torch.zeros(2), atol=1e-7)
    policy = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0]])  # uniform over three actions, then the same
    kl = anchor_kl(logits, torch.log_softmax(policy, dim=1), mask)
    anchor_logp = torch.log_softmax(logits[0], dim=0)
    expected = float((-math.log(3.0) - anchor_logp).sum() / 3.0)
    assert abs(float(kl[0]) - expected) < 1e-6 and abs(float(kl[1])) < 1e-7


def test_anchor_kl_lets_the_policy_sharpen_on_the_anchors_choice():
    """All mass on the anchor's likeliest action costs -log p_anchor(action); all mass elsewhere costs more."""
    anchor = torch.tensor([[2.0, 0.0, 0.0]])
    mask = torch.ones_like(anchor, dtype=torch.bool)
    on_choice = anchor_kl(anchor, torch.log_softmax(torch.tensor([[30.0, 0.0, 0.0]]), dim=1), mask)
    elsewhere = anchor_kl(anchor, torch.log_softmax(torch.tensor([[0.0, 30.0, 0.0]]), dim=1), mask)
    assert abs(float(on_choice[0]) + float(torch.log_softmax(anchor[0], dim=0)[0])) < 1e-4
    assert float(elsewhere[0]) > float(on_choice[0]) + 1.5


def test_anchor_kl_ignores_masked_actions():
    """Masked logits (-1e9) in both policies give -1e9 log-probs, not a difference: only legal actions count."""
    mask = torch.tensor([[True, True, False]])
    anchor = torch.tensor([[2.0, 0.0, MASKED_LOGIT]])
    policy = torch.tensor([[0.0, 2.0, MASKED_LOGIT]])
    kl = anchor_kl(anchor, torch.log_softmax(policy, dim=1), mask)
    p, q = torch.softmax(anchor[0, :2], dim=0), torch.softmax(policy[0, :2], dim=0)
    assert torch.isfinite(kl).all()
    assert abs(float(kl[0]) - float((q * (q.log() - p.log())).sum())) < 1e-5
