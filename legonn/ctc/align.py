"""CTC forced alignment (batched Viterbi) and greedy CTC decoding, compiled with numba.

The alignment runs over the usual blank-interleaved CTC topology: target ``y1..yL``
becomes the state sequence ``blank y1 blank y2 ... yL blank`` (S = 2L + 1 states).
A state may stay, advance by one, or skip the blank before it, unless that skip
would join two equal labels (``a a`` needs a blank in between, or it reads as ``a``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

NO_LABEL = -1  # frame label past an utterance's input length or for an infeasible utterance


@dataclass
class AlignResult:
    """Best CTC path per utterance.

    frame_labels: (B, T) vocabulary id per frame (``blank`` on blank frames, -1 past the
        input length and everywhere for infeasible utterances).
    scores: (B,) log-probability of the best path, ``-inf`` when there is none.
    token_spans: per utterance, ``(token_id, start_frame, end_frame_exclusive)`` for each
        target token in order; empty for infeasible utterances.
    infeasible: batch indices that have no path, e.g. because ``T < L + adjacent repeats``.
    """

    frame_labels: np.ndarray
    scores: np.ndarray
    token_spans: list[list[tuple[int, int, int]]]
    infeasible: list[int] = field(default_factory=list)


@njit(cache=True)
def _align_one(log_probs, num_frames, target, blank, frame_labels, token_start, token_end):
    """Viterbi over one utterance; fills its output rows and returns the path score."""
    num_tokens = target.shape[0]
    num_states = 2 * num_tokens + 1
    states = np.full(num_states, blank, dtype=np.int64)
    skip_cost = np.full(num_states, -np.inf)  # 0 where a state may be entered from s - 2
    min_frames = num_tokens
    for k in range(num_tokens):
        states[2 * k + 1] = target[k]
        if k > 0 and target[k] != target[k - 1]:
            skip_cost[2 * k + 1] = 0.0
        min_frames += k > 0 and target[k] == target[k - 1]
    if num_frames < min_frames or num_frames == 0:
        return 0.0 if num_tokens == 0 else -np.inf

    # Scores of state s live at [s + 2]: two -inf cells in front let every state read
    # s - 1 and s - 2 unconditionally, which keeps the inner loop free of branches.
    # float64, so the reported score is the path's exact sum of float32 log-probs.
    prev = np.full(num_states + 2, -np.inf)
    curr = np.full(num_states + 2, -np.inf)
    step_back = np.zeros((num_frames, num_states), dtype=np.int8)
    prev[2] = log_probs[0, blank]
    if num_tokens > 0:
        prev[3] = log_probs[0, states[1]]

    for t in range(1, num_frames):
        emit, back = log_probs[t], step_back[t]
        # Only states reachable from the start that can still reach the end; the band moves
        # 2 states per frame, so the cells outside it are never read.
        first = max(0, num_states - 2 * (num_frames - t))
        last = min(num_states, 2 * t + 2)
        for s in range(first, last):
            stay, advance, skip = prev[s + 2], prev[s + 1], prev[s] + skip_cost[s]
            best, step = stay, 0
            if advance > best:
                best, step = advance, 1
            if skip > best:
                best, step = skip, 2
            curr[s + 2] = best + emit[states[s]]
            back[s] = step
        prev, curr = curr, prev

    # The path must end on the last token or on the trailing blank.
    s = num_states - 1
    if num_tokens > 0 and prev[s + 1] > prev[s + 2]:
        s -= 1
    score = prev[s + 2]
    if score == -np.inf:  # -inf emissions can leave no path even when the length fits
        return score

    for t in range(num_frames - 1, -1, -1):
        frame_labels[t] = states[s]
        if s % 2 == 1:
            token_start[s // 2] = t  # walking backwards, the last write is the first frame
            if token_end[s // 2] < 0:
                token_end[s // 2] = t + 1
        s -= step_back[t, s]
    return score


@njit(parallel=True, cache=True)
def _align_batch(log_probs, input_lengths, targets, target_lengths, blank,
                 frame_labels, scores, token_start, token_end):
    for b in prange(log_probs.shape[0]):
        scores[b] = _align_one(log_probs[b], input_lengths[b], targets[b, :target_lengths[b]],
                               blank, frame_labels[b], token_start[b], token_end[b])


@njit(parallel=True, cache=True)
def _greedy_batch(log_probs, input_lengths, blank, tokens, num_tokens):
    for b in prange(log_probs.shape[0]):
        count, previous = 0, -1
        for t in range(input_lengths[b]):
            best = np.argmax(log_probs[b, t])
            if best != previous and best != blank:
                tokens[b, count] = best
                count += 1
            previous = best
        num_tokens[b] = count


def _as_numpy(x, dtype) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor; .float() first because numpy has no bfloat16
        x = x.detach().cpu()
        x = (x.float() if dtype == np.float32 else x).numpy()
    return np.ascontiguousarray(x, dtype=dtype)


def _check_bounds(values: np.ndarray, upper: int, name: str) -> None:
    # The kernels index without bounds checks, so a bad length would read stray memory.
    if values.size and (values.min() < 0 or values.max() > upper):
        raise ValueError(f"{name} must lie in [0, {upper}]")


def forced_align(log_probs, input_lengths, targets, target_lengths, blank: int = 0) -> AlignResult:
    """Best CTC path of each padded target through (B, T, V) log-probs."""
    log_probs = _as_numpy(log_probs, np.float32)
    input_lengths = _as_numpy(input_lengths, np.int64)
    targets = _as_numpy(targets, np.int64).reshape(len(log_probs), -1)
    target_lengths = _as_numpy(target_lengths, np.int64)
    batch, max_frames, vocab = log_probs.shape
    _check_bounds(input_lengths, max_frames, "input_lengths")
    _check_bounds(target_lengths, targets.shape[1], "target_lengths")
    within_length = np.arange(targets.shape[1]) < target_lengths[:, None]
    _check_bounds(targets[within_length], vocab - 1, "targets")

    frame_labels = np.full((batch, max_frames), NO_LABEL, dtype=np.int64)
    scores = np.empty(batch, dtype=np.float64)
    token_start = np.full(targets.shape, -1, dtype=np.int64)
    token_end = np.full(targets.shape, -1, dtype=np.int64)
    _align_batch(log_probs, input_lengths, targets, target_lengths, blank,
                 frame_labels, scores, token_start, token_end)

    infeasible = np.flatnonzero(scores == -np.inf).tolist()
    spans = []
    for b in range(batch):
        n = 0 if scores[b] == -np.inf else int(target_lengths[b])
        spans.append(list(zip(targets[b, :n].tolist(), token_start[b, :n].tolist(),
                              token_end[b, :n].tolist())))
    return AlignResult(frame_labels, scores, spans, infeasible)


def greedy_decode(log_probs, input_lengths, blank: int = 0) -> list[list[int]]:
    """Per-frame argmax, repeats collapsed, blanks dropped."""
    log_probs = _as_numpy(log_probs, np.float32)
    input_lengths = _as_numpy(input_lengths, np.int64)
    _check_bounds(input_lengths, log_probs.shape[1], "input_lengths")
    tokens = np.empty(log_probs.shape[:2], dtype=np.int64)
    num_tokens = np.empty(len(log_probs), dtype=np.int64)
    _greedy_batch(log_probs, input_lengths, blank, tokens, num_tokens)
    return [row[:n].tolist() for row, n in zip(tokens, num_tokens)]
