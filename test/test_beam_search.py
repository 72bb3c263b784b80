import itertools

import pytest
import torch

from legonn.nets.decoder import TransformerDecoder
from legonn.search import Hypothesis, beam_search, greedy_search

VOCAB, DIM = 7, 16
EOS = SOS = VOCAB - 1


def tiny_decoder(vocab=VOCAB):
    """Random weights; an untied, sharpened output layer gives varied hypothesis lengths (tied
    embeddings make a random decoder repeat its input, <sos>=<eos>, and stop at once)."""
    decoder = TransformerDecoder(vocab, DIM, heads=2, ffn_dim=32, layers=2, dropout=0.0,
                                 tie_embeddings=False)
    torch.nn.init.normal_(decoder.output.weight, std=0.5)
    return decoder.eval()


def random_memory(lengths):
    memory = torch.randn(len(lengths), max(lengths), DIM)
    mask = torch.arange(max(lengths))[None] < torch.tensor(lengths)[:, None]
    return memory, mask


def sequence_score(decoder, memory, mask, tokens, eos=EOS):
    """Summed log-prob of tokens + <eos>, by teacher forcing (no incremental state)."""
    inputs = torch.tensor([[SOS] + tokens])
    with torch.no_grad():
        log_probs = decoder(inputs, memory, mask).log_softmax(-1)[0]
    return float(log_probs.gather(1, torch.tensor(tokens + [eos])[:, None]).sum())


def argmax_loop(decoder, memory, mask, max_len):
    tokens = []
    with torch.no_grad():
        while True:
            if len(tokens) == max_len:
                return tokens
            logits = decoder(torch.tensor([[SOS] + tokens]), memory, mask)[0, -1]
            token = int(logits.argmax())
            if token == EOS:
                return tokens
            tokens.append(token)


def one_utterance(memory, mask, i):
    length = int(mask[i].sum())
    return memory[i:i + 1, :length], mask[i:i + 1, :length]


def test_greedy_equals_an_argmax_loop_over_full_recomputation():
    decoder = tiny_decoder()
    memory, mask = random_memory([4, 9, 6, 2, 7, 5, 3])
    hyps = greedy_search(decoder, memory, mask, SOS, EOS, max_len_a=2.0, max_len_b=4)
    stopped_at_limit = []
    for i, hyp in enumerate(hyps):
        single_memory, single_mask = one_utterance(memory, mask, i)
        max_len = 2 * int(single_mask.sum()) + 4
        assert hyp.tokens == argmax_loop(decoder, single_memory, single_mask, max_len)
        # An <eos> forced at the max length is scored like any other.
        expected = sequence_score(decoder, single_memory, single_mask, hyp.tokens)
        assert hyp.score == pytest.approx(expected, abs=1e-4)
        assert hyp.normalized_score == hyp.score  # a beam of one has no length penalty
        stopped_at_limit.append(len(hyp.tokens) == max_len)
    assert set(stopped_at_limit) == {True, False}, "cover both ways a hypothesis ends"


def test_a_batch_decodes_like_each_utterance_alone():
    decoder = tiny_decoder()
    lengths = [3, 8, 5, 11, 1]
    memory, mask = random_memory(lengths)
    batched = beam_search(decoder, memory, mask, SOS, EOS, beam_size=4, nbest=3)
    for i in range(len(lengths)):
        alone = beam_search(decoder, *one_utterance(memory, mask, i), SOS, EOS,
                            beam_size=4, nbest=3)[0]
        assert [h.tokens for h in batched[i]] == [h.tokens for h in alone]
        assert [h.score for h in batched[i]] == pytest.approx([h.score for h in alone], abs=1e-4)


def test_a_wider_beam_finds_a_score_at_least_as_good_as_greedy():
    decoder = tiny_decoder()
    memory, mask = random_memory([5, 7, 3, 9, 6, 4])
    greedy = beam_search(decoder, memory, mask, SOS, EOS, beam_size=1, length_penalty=0.6)
    wide = beam_search(decoder, memory, mask, SOS, EOS, beam_size=5, length_penalty=0.6)
    for narrow_hyps, wide_hyps in zip(greedy, wide):
        assert wide_hyps[0].normalized_score >= narrow_hyps[0].normalized_score - 1e-6


def test_searching_until_the_nbest_is_final_is_never_worse_than_fairseqs_stop():
    decoder = tiny_decoder()
    memory, mask = random_memory([5, 7, 3, 9, 6, 4, 8, 2])
    fairseq = beam_search(decoder, memory, mask, SOS, EOS, beam_size=3, nbest=2,
                          stop_when_beam_finished=True)
    final = beam_search(decoder, memory, mask, SOS, EOS, beam_size=3, nbest=2)
    for stopped_early, searched_on in zip(fairseq, final):
        for early, later in zip(stopped_early, searched_on):
            assert later.normalized_score >= early.normalized_score - 1e-6
    assert fairseq != final, "the example should show fairseq's rule stopping too soon"


@pytest.mark.parametrize("length_penalty", [0.0, 0.6, 1.0])
def test_a_beam_wider_than_the_search_space_finds_the_exhaustive_nbest(length_penalty):
    vocab, max_len = 4, 3  # tokens 0..2 and <eos>=3: 1 + 3 + 9 + 27 = 40 hypotheses
    decoder = tiny_decoder(vocab)
    memory, mask = random_memory([5])
    found = beam_search(decoder, memory, mask, vocab - 1, vocab - 1, beam_size=64,
                        length_penalty=length_penalty, max_len_a=0.0, max_len_b=max_len, nbest=5)[0]

    def normalized(tokens):
        inputs = torch.tensor([[vocab - 1] + list(tokens)])
        with torch.no_grad():
            log_probs = decoder(inputs, memory, mask).log_softmax(-1)[0]
        score = float(log_probs.gather(1, torch.tensor(list(tokens) + [vocab - 1])[:, None]).sum())
        return score / (len(tokens) + 1) ** length_penalty

    everything = [list(seq) for n in range(max_len + 1)
                  for seq in itertools.product(range(vocab - 1), repeat=n)]
    best = sorted(everything, key=normalized, reverse=True)[:5]
    assert [h.tokens for h in found] == best
    assert [h.normalized_score for h in found] == pytest.approx([normalized(t) for t in best], abs=1e-4)


def test_nbest_lists_are_sorted_distinct_and_as_long_as_asked():
    decoder = tiny_decoder()
    memory, mask = random_memory([6, 3, 8])
    for hyps in beam_search(decoder, memory, mask, SOS, EOS, beam_size=6, nbest=4):
        assert len(hyps) == 4
        assert all(isinstance(h, Hypothesis) for h in hyps)
        scores = [h.normalized_score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == 4


def test_nbest_larger_than_the_beam_is_refused():
    decoder = tiny_decoder()
    with pytest.raises(ValueError, match="nbest"):
        beam_search(decoder, *random_memory([3]), SOS, EOS, beam_size=2, nbest=3)


class NoEarlyEos:
    """Extra scorer that makes <eos> unattractive and bans token 2. Its state is the token
    rows it saw last, which lets it check that rows are reordered alongside the decoder."""

    def init_state(self, utterance_of_row):
        return None

    def score(self, tokens, state, candidates):
        if state is not None:
            assert torch.equal(state, tokens[:, :-1]), "scorer state was not reordered with its rows"
        penalty = torch.zeros(tokens.size(0), VOCAB)
        penalty[:, EOS] = -50.0
        penalty[:, 2] = float("-inf")
        return penalty, tokens

    def reorder_state(self, state, index):
        return state[index]


def test_extra_scorers_steer_the_search_and_max_length_is_respected():
    decoder = tiny_decoder()
    lengths = [2, 5, 9]
    memory, mask = random_memory(lengths)
    results = beam_search(decoder, memory, mask, SOS, EOS, beam_size=3, nbest=3,
                          max_len_a=0.5, max_len_b=2, scorers=[(NoEarlyEos(), 1.0)])
    for length, hyps in zip(lengths, results):
        for hyp in hyps:
            assert len(hyp.tokens) == int(0.5 * length) + 2  # <eos> only when forced
            assert 2 not in hyp.tokens


def test_a_pre_beam_keeps_every_token_among_the_decoders_best_and_the_full_vocabulary_changes_nothing():
    decoder = tiny_decoder()
    memory, mask = random_memory([4, 7])
    unrestricted = beam_search(decoder, memory, mask, SOS, EOS, beam_size=3, nbest=3)
    assert beam_search(decoder, memory, mask, SOS, EOS, beam_size=3, nbest=3, pre_beam=VOCAB) == unrestricted
    restricted = beam_search(decoder, memory, mask, SOS, EOS, beam_size=3, nbest=3, pre_beam=2)
    for i, hyps in enumerate(restricted):
        single_memory, single_mask = one_utterance(memory, mask, i)
        for hyp in hyps:
            with torch.no_grad():
                logits = decoder(torch.tensor([[SOS] + hyp.tokens]), single_memory, single_mask)[0]
            for position, token in enumerate(hyp.tokens):
                assert token in logits[position].topk(2).indices.tolist()
