"""The anchor term of the PPO loss: KL(policy || anchor) per unit over its legal actions."""
from __future__ import annotations

import math

import torch

from train.learner import anchor_kl
from train.rollout import MASKED_LOGIT


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
