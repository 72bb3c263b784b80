"""CTC loss for the interface: the forward-backward recursion over the blank-interleaved states
(legonn.ctc.align has the topology), compiled with numba, for log-probabilities on CPU.

torch's CPU ctc_loss writes its gradient for every one of the V interface tokens at every frame,
with an exp for each. Here the recursion reads only the log-probabilities of each utterance's own
states (a gather of S = 2L + 1 columns of V) and returns the negative log-likelihood; its
gradient is minus the state occupancies, which autograd scatters back through the gather, so the
dense (B, T, V) work left is log-softmax's own backward, which the model runs anyway. With the
log-softmax: 0.42-0.52x of torch's time over the Multi30k interface's 1002 tokens, the same time
over 42 phones (bench/ctc_loss.py). On CUDA tensors torch's ctc_loss runs instead.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from numba import njit


@njit(cache=True)
def _log_add(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    if b == -np.inf:
        return a
    return a + np.log1p(np.exp(b - a))


@njit(cache=True)
def _log_add3(a: float, b: float, c: float) -> float:
    """log(e^a + e^b + e^c) with an exp per term below the largest: c is -inf for every state
    that cannot be entered by a skip (blanks, repeats), and then this is _log_add."""
    if c == -np.inf:
        return _log_add(a, b)
    if a < b:
        a, b = b, a
    if a < c:
        a, c = c, a
    return a + np.log1p(np.exp(b - a) + np.exp(c - a))


@njit(cache=True)
def _forward_backward(state_log_probs, input_lengths, target_lengths, can_skip, nll, occupancy):
    """Per utterance b: nll[b] = -log p(target | input) and, unless `occupancy` is empty (no
    gradient wanted), occupancy[b, t, s] = posterior of being in state s at frame t. An utterance
    with no path gets nll 0 and occupancy 0 (ESPnet's and torch's zero_infinity)."""
    batch, frames, _ = state_log_probs.shape
    neg_inf = -np.inf
    alpha = np.empty((frames, state_log_probs.shape[2]))
    beta = np.empty_like(alpha)
    for b in range(batch):
        lp = state_log_probs[b]
        num_frames, num_states = input_lengths[b], 2 * target_lengths[b] + 1
        if num_frames == 0:
            continue
        for s in range(num_states):
            alpha[0, s] = lp[0, s] if s < 2 else neg_inf
        for t in range(1, num_frames):
            for s in range(num_states):
                one_back = alpha[t - 1, s - 1] if s >= 1 else neg_inf
                skip = alpha[t - 1, s - 2] if s >= 2 and can_skip[b, s] else neg_inf
                alpha[t, s] = _log_add3(alpha[t - 1, s], one_back, skip) + lp[t, s]
        last = num_frames - 1
        before_end = alpha[last, num_states - 2] if num_states >= 2 else neg_inf
        log_likelihood = _log_add3(alpha[last, num_states - 1], before_end, neg_inf)
        if log_likelihood == neg_inf:
            continue
        nll[b] = -log_likelihood
        if occupancy.size == 0:
            continue
        # beta[t, s]: log-probability of the rest of the target from state s at frame t, that
        # frame's own log-probability included (so alpha + beta counts it twice).
        for s in range(num_states):
            beta[last, s] = lp[last, s] if s >= num_states - 2 else neg_inf
        for t in range(last - 1, -1, -1):
            for s in range(num_states):
                one_on = beta[t + 1, s + 1] if s + 1 < num_states else neg_inf
                skip = beta[t + 1, s + 2] if s + 2 < num_states and can_skip[b, s + 2] else neg_inf
                beta[t, s] = _log_add3(beta[t + 1, s], one_on, skip) + lp[t, s]
        for t in range(num_frames):
            for s in range(num_states):
                occupancy[b, t, s] = np.exp(alpha[t, s] + beta[t, s] - lp[t, s] - log_likelihood)


class _StatePathNLL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, state_log_probs, input_lengths, target_lengths, can_skip):
        batch = state_log_probs.size(0)
        nll = np.zeros(batch)
        shape = tuple(state_log_probs.shape) if ctx.needs_input_grad[0] else (0, 0, 0)  # validation: none
        occupancy = np.zeros(shape, dtype=np.float32)
        _forward_backward(state_log_probs.detach().float().contiguous().numpy(), input_lengths.numpy(),
                          target_lengths.numpy(), can_skip.numpy(), nll, occupancy)
        ctx.save_for_backward(torch.from_numpy(occupancy))
        return torch.from_numpy(nll).to(state_log_probs.dtype)

    @staticmethod
    def backward(ctx, grad_nll):
        (occupancy,) = ctx.saved_tensors
        grad = -occupancy.to(grad_nll.dtype) * grad_nll[:, None, None]
        return grad, None, None, None


def ctc_loss(log_probs: torch.Tensor, input_lengths: torch.Tensor, targets: torch.Tensor,
             target_lengths: torch.Tensor, blank: int = 0) -> torch.Tensor:
    """(B,) CTC negative log-likelihoods of `targets` (B, L), padded with anything, under
    `log_probs` (B, T, V); 0 where no path fits, as torch's ``zero_infinity``."""
    if not log_probs.is_cpu:
        return F.ctc_loss(log_probs.transpose(0, 1), targets.clamp(min=0), input_lengths, target_lengths,
                          blank=blank, reduction="none", zero_infinity=True)
    batch, frames, _ = log_probs.shape
    if int(input_lengths.max()) > frames or int(target_lengths.max()) > targets.size(1):
        raise ValueError(f"ctc_loss: lengths beyond the padded tensors: input lengths up to "
                         f"{int(input_lengths.max())} for {frames} frames, target lengths up to "
                         f"{int(target_lengths.max())} for {targets.size(1)} target columns")
    input_lengths, target_lengths = input_lengths.long(), target_lengths.long()
    targets = targets[:, :max(int(target_lengths.max()), 1)].clamp(min=0)
    states = targets.new_full((batch, 2 * targets.size(1) + 1), blank)
    states[:, 1::2] = targets
    can_skip = torch.zeros(states.shape, dtype=torch.bool)
    can_skip[:, 3::2] = states[:, 3::2] != states[:, 1:-2:2]  # not into a repeat of the label before
    state_log_probs = log_probs.gather(2, states[:, None, :].expand(-1, frames, -1))
    return _StatePathNLL.apply(state_log_probs, input_lengths, target_lengths, can_skip)
