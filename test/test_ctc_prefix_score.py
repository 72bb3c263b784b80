import itertools
import math

import torch

from legonn.search import beam_search
from legonn.search.ctc_prefix_score import CTCPrefixScorer

BLANK, EOS = 0, 3  # vocabulary: <blank>, a, b, <sos/eos>


def ctc_marginals(positions, seed):
    """Random CTC log-marginals that never emit <sos/eos> (as a trained CTC head)."""
    logits = torch.randn(positions, 4, generator=torch.Generator().manual_seed(seed)) * 2
    logits[:, EOS] = float("-inf")
    return logits.log_softmax(-1)


def collapse(path):
    out = []
    for previous, label in zip((None,) + path, path):
        if label != BLANK and label != previous:
            out.append(label)
    return out


def exhaustive(log_probs):
    """(probability the output starts with a prefix, probability it is exactly a sequence)."""
    starts, exactly = {}, {}
    for path in itertools.product(range(3), repeat=len(log_probs)):
        p = math.exp(sum(float(log_probs[t, label]) for t, label in enumerate(path)))
        output = tuple(collapse(path))
        exactly[output] = exactly.get(output, 0.0) + p
        for n in range(len(output) + 1):
            starts[output[:n]] = starts.get(output[:n], 0.0) + p
    return starts, exactly


def log(p):
    return math.log(p) if p > 0 else float("-inf")


def test_prefix_scores_equal_sums_over_every_ctc_path():
    log_probs = ctc_marginals(5, seed=0)
    starts, exactly = exhaustive(log_probs)
    scorer = CTCPrefixScorer(log_probs[None], torch.tensor([5]), BLANK, EOS)
    for prefix in [(), (1,), (2,), (1, 1), (1, 2), (2, 1, 2)]:
        state = scorer.init_state(torch.tensor([0]))
        tokens = [EOS]  # <sos>
        for token in prefix + (None,):
            scores, state = scorer.score(torch.tensor([tokens]), state)
            if token is not None:
                tokens.append(token)
        for token in (1, 2):
            expected = log(starts.get(prefix + (token,), 0)) - log(starts[prefix])
            assert math.isclose(float(scores[0, token]), max(expected, -1e10), abs_tol=1e-4), (prefix, token)
        expected_end = log(exactly.get(prefix, 0)) - log(starts[prefix])
        assert math.isclose(float(scores[0, EOS]), expected_end, abs_tol=1e-4), prefix
        assert float(scores[0, BLANK]) < -1e9  # the decoder never emits a blank


def test_padding_positions_do_not_change_an_utterances_scores():
    short = ctc_marginals(3, seed=1)
    padded = torch.cat([short, ctc_marginals(4, seed=2)])[None]
    alone = CTCPrefixScorer(short[None], torch.tensor([3]), BLANK, EOS)
    in_batch = CTCPrefixScorer(torch.cat([padded, ctc_marginals(7, seed=3)[None]]),
                               torch.tensor([3, 7]), BLANK, EOS)
    tokens = torch.tensor([[EOS], [EOS]])
    first_alone, state_alone = alone.score(tokens[:1], alone.init_state(torch.tensor([0])))
    first_batch, state_batch = in_batch.score(tokens, in_batch.init_state(torch.tensor([0, 1])))
    torch.testing.assert_close(first_alone[0], first_batch[0])
    tokens = torch.tensor([[EOS, 1], [EOS, 2]])
    second_alone, _ = alone.score(tokens[:1], state_alone)
    second_batch, _ = in_batch.score(tokens, state_batch)
    torch.testing.assert_close(second_alone[0], second_batch[0])


class Uniform(torch.nn.Module):
    """A decoder with no opinion: every token equally likely at every step."""

    def init_state(self, memory, mask):
        return torch.zeros(len(memory))

    def reorder_state(self, state, index):
        return state[index]

    def step(self, tokens, state):
        return torch.full((len(tokens), 4), -math.log(4)), state


def test_with_an_indifferent_decoder_joint_search_finds_the_ctc_best_sequence():
    log_probs = ctc_marginals(5, seed=4)
    _, exactly = exhaustive(log_probs)
    best = max(exactly, key=exactly.get)
    scorer = CTCPrefixScorer(log_probs[None], torch.tensor([5]), BLANK, EOS)
    memory, mask = torch.zeros(1, 5, 1), torch.ones(1, 5, dtype=torch.bool)
    hyps = beam_search(Uniform(), memory, mask, EOS, EOS, beam_size=4, length_penalty=0.0,
                       scorers=[(scorer, 100.0)])
    assert tuple(hyps[0][0].tokens) == best


def test_scoring_only_some_candidates_gives_them_the_scores_of_the_full_vocabulary():
    log_probs = ctc_marginals(6, seed=5)
    scorer = CTCPrefixScorer(log_probs[None].expand(2, -1, -1), torch.tensor([6, 6]), BLANK, EOS)
    tokens = torch.tensor([[EOS], [EOS]])
    full, full_state = scorer.score(tokens, scorer.init_state(torch.tensor([0, 1])))
    candidates = torch.tensor([[1, 2], [2, 0]])
    some, some_state = scorer.score(tokens, scorer.init_state(torch.tensor([0, 1])), candidates)
    for row, row_candidates in enumerate(candidates.tolist()):
        for token in row_candidates + [EOS]:
            assert math.isclose(float(some[row, token]), float(full[row, token]), abs_tol=1e-5)
    assert float(some[0, BLANK]) < -1e9  # not a candidate: not scored
    tokens = torch.tensor([[EOS, 2], [EOS, 2]])  # each row took token 2
    full, _ = scorer.score(tokens, full_state)
    some, _ = scorer.score(tokens, some_state, torch.tensor([[1, 2], [1, 2]]))
    torch.testing.assert_close(some[:, 1:], full[:, 1:])
