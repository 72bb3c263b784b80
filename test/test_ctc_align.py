"""Specification of legonn.ctc: Viterbi forced alignment and greedy CTC decoding."""
import numpy as np
import pytest
import torch

from legonn.ctc import forced_align, greedy_decode

BLANK = 0


def random_log_probs(rng, batch, frames, vocab):
    logits = torch.from_numpy(rng.standard_normal((batch, frames, vocab), dtype=np.float32))
    return torch.log_softmax(3 * logits, dim=-1).numpy()


def random_target(rng, length, vocab, repeat_rate=0.3):
    """Non-blank labels where roughly ``repeat_rate`` of tokens repeat their predecessor."""
    target = rng.integers(1, vocab, size=length)
    repeats = rng.random(length) < repeat_rate
    for k in range(1, length):
        if repeats[k]:
            target[k] = target[k - 1]
    return target


def min_frames(target):
    """Fewest frames a CTC path needs: one per token plus a blank between equal neighbours."""
    return len(target) + int(np.sum(target[1:] == target[:-1]))


def pad(rows, fill):
    out = np.full((len(rows), max(map(len, rows), default=0)), fill, dtype=np.int64)
    for row, values in zip(out, rows):
        row[:len(values)] = values
    return out


def collapse(labels):
    """CTC's many-to-one map: merge repeated frames, then drop blanks."""
    merged = [x for i, x in enumerate(labels) if i == 0 or x != labels[i - 1]]
    return [x for x in merged if x != BLANK]


def align_each(log_probs, lengths, targets):
    """Align utterances one at a time, each trimmed to its own lengths."""
    return [forced_align(lp[None, :n], [n], tgt[None], [len(tgt)])
            for lp, n, tgt in zip(log_probs, lengths, targets)]


def torchaudio_score(log_probs, target):
    from torchaudio.functional import forced_align as ta_forced_align

    if len(target) == 0:  # torchaudio rejects empty targets; the only path is all blanks
        return log_probs[:, BLANK].astype(np.float64).sum()
    _, frame_scores = ta_forced_align(torch.from_numpy(log_probs)[None],
                                      torch.tensor(target, dtype=torch.int32)[None], blank=BLANK)
    return frame_scores.double().sum().item()


@pytest.fixture(params=[(7, 40, (0, 1, 3, 5, 8, 12, 15, 18)), (50, 300, (10, 60, 90, 120))],
                ids=["short", "long"])
def batch(request):
    """Utterances of different lengths, padded with junk that must be ignored."""
    vocab, max_frames, target_lengths = request.param
    rng = np.random.default_rng(max_frames)
    targets = [random_target(rng, n, vocab) for n in target_lengths]
    lengths = np.array([max(min_frames(t), int(rng.integers(1, max_frames + 1))) for t in targets])
    log_probs = random_log_probs(rng, len(targets), max_frames, vocab)
    return log_probs, lengths, targets


def test_path_scores_equal_torchaudio_forced_align(batch):
    log_probs, lengths, targets = batch
    result = forced_align(log_probs, lengths, pad(targets, -1), [len(t) for t in targets])
    for b, (n, target) in enumerate(zip(lengths, targets)):
        assert result.scores[b] == pytest.approx(torchaudio_score(log_probs[b, :n], target), abs=1e-4)


def test_frame_labels_are_a_ctc_path_that_collapses_to_the_target(batch):
    log_probs, lengths, targets = batch
    result = forced_align(log_probs, lengths, pad(targets, -1), [len(t) for t in targets])
    for b, (n, target) in enumerate(zip(lengths, targets)):
        labels = result.frame_labels[b]
        assert collapse(labels[:n].tolist()) == target.tolist()
        assert (labels[n:] == -1).all()
        path_log_prob = log_probs[b, np.arange(n), labels[:n]].astype(np.float64).sum()
        assert result.scores[b] == pytest.approx(path_log_prob, abs=1e-6)


def test_token_spans_cover_exactly_the_frames_of_each_token(batch):
    log_probs, lengths, targets = batch
    result = forced_align(log_probs, lengths, pad(targets, -1), [len(t) for t in targets])
    for b, (n, target) in enumerate(zip(lengths, targets)):
        spans = result.token_spans[b]
        assert [token for token, _, _ in spans] == target.tolist()
        expected = np.full(n, BLANK)
        for token, start, end in spans:
            assert 0 <= start < end <= n
            expected[start:end] = token
        assert (result.frame_labels[b, :n] == expected).all()
        starts = [start for _, start, _ in spans]
        assert starts == sorted(starts)


def test_infeasible_utterance_is_reported_and_the_rest_still_aligned():
    rng = np.random.default_rng(1)
    log_probs = random_log_probs(rng, 3, 4, 5)
    # Needs 4 frames (a blank between the two 2s); gets 3, then exactly 4, then 4 again.
    targets = np.array([[2, 2, 3], [2, 2, 3], [1, 3, 4]])
    result = forced_align(log_probs, [3, 4, 4], targets, [3, 3, 3])
    assert result.infeasible == [0]
    assert result.scores[0] == -np.inf
    assert (result.frame_labels[0] == -1).all()
    assert result.token_spans[0] == []
    assert result.frame_labels[1].tolist() == [2, BLANK, 2, 3]
    assert np.isfinite(result.scores[1:]).all()


def test_utterance_whose_only_paths_have_zero_probability_is_infeasible():
    log_probs = np.log(np.full((1, 5, 4), 0.25, dtype=np.float32))
    log_probs[0, :, 3] = -np.inf  # token 3 can never be emitted
    result = forced_align(log_probs, [5], [[1, 3]], [2])
    assert result.infeasible == [0]
    assert (result.frame_labels == -1).all()


def test_utterance_with_a_nan_or_inf_frame_is_flagged_not_aligned_and_the_rest_are():
    rng = np.random.default_rng(2)
    log_probs = random_log_probs(rng, 4, 6, 5)
    log_probs[0, 3, 1] = np.nan
    log_probs[1, 2, 4] = np.inf
    log_probs[2, 5, 2] = np.nan  # past utterance 2's length: never read, so no harm
    targets = np.array([[1, 2], [3, 4], [1, 2], [2, 3]])
    result = forced_align(log_probs, [6, 6, 5, 6], targets, [2, 2, 2, 2])
    assert result.non_finite == {0: 3, 1: 2}
    assert result.infeasible == []  # flagged apart: the path may well exist
    for b in (0, 1):
        assert np.isnan(result.scores[b])
        assert (result.frame_labels[b] == -1).all() and result.token_spans[b] == []
    clean = forced_align(log_probs[2:], [5, 6], targets[2:], [2, 2])
    assert np.array_equal(result.scores[2:], clean.scores) and clean.non_finite == {}
    assert result.token_spans[2:] == clean.token_spans


def test_batched_alignment_equals_aligning_each_utterance_alone(batch):
    log_probs, lengths, targets = batch
    batched = forced_align(log_probs, lengths, pad(targets, 99), [len(t) for t in targets])
    for b, alone in enumerate(align_each(log_probs, lengths, targets)):
        n = lengths[b]
        assert batched.scores[b] == alone.scores[0]
        assert (batched.frame_labels[b, :n] == alone.frame_labels[0]).all()
        assert batched.token_spans[b] == alone.token_spans[0]


def test_torch_and_numpy_inputs_give_the_same_alignment(batch):
    log_probs, lengths, targets = batch
    target_lengths = [len(t) for t in targets]
    from_numpy = forced_align(log_probs, lengths, pad(targets, -1), target_lengths)
    from_torch = forced_align(torch.from_numpy(log_probs), torch.from_numpy(lengths),
                              torch.from_numpy(pad(targets, -1)), torch.tensor(target_lengths))
    assert (from_numpy.scores == from_torch.scores).all()
    assert (from_numpy.frame_labels == from_torch.frame_labels).all()


def test_lengths_beyond_the_padded_shape_are_rejected():
    log_probs = np.zeros((1, 3, 4), dtype=np.float32)
    with pytest.raises(ValueError):
        forced_align(log_probs, [4], [[1]], [1])
    with pytest.raises(ValueError):
        forced_align(log_probs, [3], [[1]], [2])


def test_targets_out_of_the_vocabulary_or_equal_to_blank_are_rejected():
    log_probs = np.zeros((1, 3, 4), dtype=np.float32)
    for bad_target in ([[4]], [[BLANK]]):
        with pytest.raises(ValueError):
            forced_align(log_probs, [3], bad_target, [1])


def test_greedy_decode_equals_argmax_collapse_reference():
    rng = np.random.default_rng(2)
    # Few labels and sharp distributions, so repeats and blanks both occur often.
    log_probs = random_log_probs(rng, 6, 30, 4)
    lengths = np.array([30, 0, 1, 7, 19, 25])
    expected = [collapse(log_probs[b, :n].argmax(-1).tolist()) for b, n in enumerate(lengths)]
    assert greedy_decode(log_probs, lengths) == expected
    assert greedy_decode(torch.from_numpy(log_probs), torch.from_numpy(lengths)) == expected
