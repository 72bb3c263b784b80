"""Specification of legonn.ctc.ctc_loss: torch's CTC loss (reduction "none", zero_infinity),
with the same gradient into the logits, computed over each utterance's own states."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from legonn.ctc import ctc_loss
from legonn.model import ctc_loss_masking_infeasible


def batch_with_repeats(seed, batch=6, frames=30, vocab=12, max_target=9):
    """Random logits and padded targets (-1, as ESPnet pads), with repeated labels, an empty
    target, and one utterance too short for its target (needs a blank between repeats)."""
    rng = np.random.default_rng(seed)
    logits = torch.tensor(3 * rng.standard_normal((batch, frames, vocab)), dtype=torch.float32)
    input_lengths = torch.tensor(rng.integers(frames // 2, frames + 1, batch))
    input_lengths[0] = frames
    target_lengths = torch.tensor(rng.integers(1, max_target + 1, batch))
    target_lengths[1] = 0
    targets = torch.full((batch, max_target), -1)
    for b in range(batch):
        labels = rng.integers(1, vocab, int(target_lengths[b]))
        labels[1::3] = labels[::3][:len(labels[1::3])]  # repeats
        targets[b, :len(labels)] = torch.tensor(labels)
    targets[2, :4] = 5  # "5 5 5 5" needs 7 frames
    target_lengths[2], input_lengths[2] = 4, 6
    return logits, input_lengths, targets, target_lengths


def torch_reference(log_probs, input_lengths, targets, target_lengths):
    return F.ctc_loss(log_probs.transpose(0, 1), targets.clamp(min=0), input_lengths, target_lengths,
                      reduction="none", zero_infinity=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_and_logit_gradient_match_torch(seed):
    logits, input_lengths, targets, target_lengths = batch_with_repeats(seed)
    results = []
    for loss_fn in (torch_reference, ctc_loss):
        leaf = logits.clone().requires_grad_()
        loss = loss_fn(leaf.log_softmax(-1), input_lengths, targets, target_lengths)
        (loss * torch.arange(1.0, len(loss) + 1)).sum().backward()  # a weight per utterance
        results.append((loss.detach(), leaf.grad))
    (expected, expected_grad), (loss, grad) = results
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-5)


def test_an_utterance_without_a_path_costs_nothing_and_gets_no_gradient():
    logits, input_lengths, targets, target_lengths = batch_with_repeats(0)
    leaf = logits.clone().requires_grad_()
    loss = ctc_loss(leaf.log_softmax(-1), input_lengths, targets, target_lengths)
    loss.sum().backward()
    assert loss[2] == 0 and torch.all(leaf.grad[2] == 0)
    assert torch.all(loss[[0, 1, 3, 4, 5]] > 0)


def test_empty_target_is_all_blank_frames():
    log_probs = torch.randn(2, 5, 4).log_softmax(-1)
    lengths = torch.tensor([5, 3])
    loss = ctc_loss(log_probs, lengths, torch.full((2, 1), -1), torch.tensor([0, 0]))
    expected = torch.stack([-log_probs[0, :5, 0].sum(), -log_probs[1, :3, 0].sum()])
    torch.testing.assert_close(loss, expected)


def test_model_sum_masks_infeasible_utterances_and_counts_them():
    logits, input_lengths, targets, target_lengths = batch_with_repeats(1)
    total, infeasible = ctc_loss_masking_infeasible(logits.log_softmax(-1), input_lengths, targets,
                                                    target_lengths)
    expected = torch_reference(logits.log_softmax(-1), input_lengths, targets, target_lengths)
    torch.testing.assert_close(total, expected.sum(), rtol=1e-5, atol=1e-3)
    assert infeasible == 1


def test_lengths_beyond_the_padded_tensors_are_refused():
    log_probs = torch.randn(1, 4, 5).log_softmax(-1)
    with pytest.raises(ValueError, match="input lengths up to 6 for 4 frames"):
        ctc_loss(log_probs, torch.tensor([6]), torch.tensor([[1, 2]]), torch.tensor([2]))


def test_without_gradients_the_loss_is_the_same():
    logits, input_lengths, targets, target_lengths = batch_with_repeats(2)
    with torch.no_grad():
        loss = ctc_loss(logits.log_softmax(-1), input_lengths, targets, target_lengths)
    expected = torch_reference(logits.log_softmax(-1), input_lengths, targets, target_lengths)
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-4)
