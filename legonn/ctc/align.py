"""CTC forced alignment (batched Viterbi, compiled with numba) and greedy CTC decoding.

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
    non_finite: batch index -> first frame (within the input length) whose log-probs hold a NaN
        or +inf. Such an utterance is not aligned: score NaN, no labels, no spans (a NaN
        would otherwise steer the Viterbi maxima silently and give a meaningless path).
    """

    frame_labels: np.ndarray
    scores: np.ndarray
    token_spans: list[list[tuple[int, int, int]]]
    infeasible: list[int]
    non_finite: dict[int, int] = field(default_factory=dict)


@njit(cache=True)
def _align_one(log_probs, num_frames, target, blank, frame_labels, token_start, token_end):
    """Viterbi over one utterance; fills its output rows and returns the path score.

    frame_labels, token_start and token_end arrive filled with -1.
    """
    num_tokens = target.shape[0]
    num_states = 2 * num_tokens + 1
    if num_frames == 0:
        return 0.0 if num_tokens == 0 else -np.inf
    states = np.full(num_states, blank, dtype=np.int64)
    skip_cost = np.full(num_states, -np.inf)  # 0 where state s may be entered from s - 2
    for k in range(num_tokens):
        states[2 * k + 1] = target[k]
        if k > 0 and target[k] != target[k - 1]:
            skip_cost[2 * k + 1] = 0.0

    # best[t, s + 2] is the best score of a path in state s at frame t. Two -inf columns in
    # front let every state read s - 1 and s - 2 unconditionally, and keeping every frame
    # (not only backpointers) lets the backtrace re-derive each step. float64 makes the
    # score the path's exact sum of float32 log-probs.
    best = np.empty((num_frames, num_states + 2))
    best[:, :2] = -np.inf
    best[0, 2:] = -np.inf
    best[0, 2] = log_probs[0, blank]
    if num_tokens > 0:
        best[0, 3] = log_probs[0, states[1]]
    emit = np.empty(num_states)
    for t in range(1, num_frames):
        # Gathering the frame's emissions first leaves a max-plus loop over contiguous
        # rows, which LLVM vectorizes (about 2x faster than gathering inside it).
        for s in range(num_states):
            emit[s] = log_probs[t, states[s]]
        prev, curr = best[t - 1], best[t]
        for s in range(num_states):
            curr[s + 2] = max(max(prev[s + 2], prev[s + 1]), prev[s] + skip_cost[s]) + emit[s]

    # The path must end on the last token or on the trailing blank. Unreachable states
    # stay at -inf, which is how a target too long for its frames shows up.
    s = num_states - 1
    if num_tokens > 0 and best[-1, s + 1] > best[-1, s + 2]:
        s -= 1
    score = best[-1, s + 2]
    if score == -np.inf or np.isnan(score):  # NaN input would send the backtrace astray
        return score

    for t in range(num_frames - 1, -1, -1):
        frame_labels[t] = states[s]
        if s % 2 == 1:
            token_start[s // 2] = t  # walking backwards, the last write is the first frame
            if token_end[s // 2] < 0:
                token_end[s // 2] = t + 1
        if t > 0:
            prev = best[t - 1]
            stay, advance, skip = prev[s + 2], prev[s + 1], prev[s] + skip_cost[s]
            s -= 0 if stay >= max(advance, skip) else (1 if advance >= skip else 2)
    return score


@njit(cache=True)
def _first_non_finite_frame(log_probs, num_frames):
    """First frame below num_frames with a NaN or +inf log-prob (-inf is log 0, allowed), or -1."""
    for t in range(num_frames):
        for v in range(log_probs.shape[1]):
            if not log_probs[t, v] < np.inf:  # false for NaN and +inf
                return t
    return -1


@njit(parallel=True, cache=True)
def _align_batch(log_probs, input_lengths, targets, target_lengths, blank,
                 frame_labels, scores, token_start, token_end, bad_frame):
    for b in prange(log_probs.shape[0]):
        bad_frame[b] = _first_non_finite_frame(log_probs[b], input_lengths[b])
        if bad_frame[b] >= 0:
            scores[b] = np.nan
        else:
            scores[b] = _align_one(log_probs[b], input_lengths[b], targets[b, :target_lengths[b]],
                                   blank, frame_labels[b], token_start[b], token_end[b])


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
    if (targets[within_length] == blank).any():
        raise ValueError(f"targets must not contain the blank id {blank}")

    frame_labels = np.full((batch, max_frames), NO_LABEL, dtype=np.int64)
    scores = np.empty(batch, dtype=np.float64)
    token_start = np.full(targets.shape, -1, dtype=np.int64)
    token_end = np.full(targets.shape, -1, dtype=np.int64)
    bad_frame = np.empty(batch, dtype=np.int64)
    _align_batch(log_probs, input_lengths, targets, target_lengths, blank,
                 frame_labels, scores, token_start, token_end, bad_frame)

    infeasible = np.flatnonzero(scores == -np.inf).tolist()
    non_finite = {int(b): int(bad_frame[b]) for b in np.flatnonzero(bad_frame >= 0)}
    spans = []
    for b in range(batch):
        n = int(target_lengths[b]) if scores[b] > -np.inf else 0  # False for NaN too
        spans.append(list(zip(targets[b, :n].tolist(), token_start[b, :n].tolist(),
                              token_end[b, :n].tolist())))
    return AlignResult(frame_labels, scores, spans, infeasible, non_finite)


def greedy_decode(log_probs, input_lengths, blank: int = 0) -> list[list[int]]:
    """Per-frame argmax, repeats collapsed, blanks dropped."""
    # Plain numpy: its SIMD argmax over the vocabulary beats a numba loop here.
    log_probs = _as_numpy(log_probs, np.float32)
    input_lengths = _as_numpy(input_lengths, np.int64)
    _check_bounds(input_lengths, log_probs.shape[1], "input_lengths")
    best = log_probs.argmax(axis=-1)
    keep = (best != blank) & (np.arange(best.shape[1]) < input_lengths[:, None])
    keep[:, 1:] &= best[:, 1:] != best[:, :-1]
    return [row[kept].tolist() for row, kept in zip(best, keep)]
