"""Batched beam search over utterances x beams for the LegoNN decoder (fairseq-style).

All live hypotheses of all unfinished utterances are rows of one tensor and advance together
with the decoder's incremental state. Each step takes the top 2*beam candidates per utterance:
<eos> candidates among the best `beam` become finished hypotheses, the best `beam` others go on.
An utterance stops at its max length or when no live beam can still beat the worst of its n-best
(optionally also, like fairseq, once `beam` hypotheses finished); its rows then leave the
batch, so later steps get cheaper."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from legonn.nets.decoder import TransformerDecoder


@dataclass(frozen=True)
class Hypothesis:
    tokens: list[int]  # without <sos> and <eos>
    score: float  # summed (weighted) log-probabilities, <eos> included
    normalized_score: float  # score / (len(tokens) + 1) ** length_penalty


class ExtraScorer(Protocol):
    """Seam for shallow fusion (an LM) or CTC prefix scoring, added with a weight to the
    decoder's log-probs. Scores must be log-probabilities (<= 0): early stopping relies on
    scores never rising as a hypothesis grows."""

    def init_state(self, utterance_of_row: torch.Tensor) -> Any:
        """utterance_of_row (N,): the input utterance each initial row decodes."""

    def score(self, tokens: torch.Tensor, state: Any, candidates: torch.Tensor | None) -> tuple[torch.Tensor, Any]:
        """tokens (N, t) start with <sos>; candidates (N, C): the only next tokens the search may
        still choose (None: any) -> ((N, V) next-token log-probs, advanced state)."""

    def reorder_state(self, state: Any, index: torch.Tensor) -> Any:
        """Keep rows `index` (beam selection and finished-utterance pruning)."""


def max_output_lengths(memory_mask: torch.Tensor, max_len_a: float, max_len_b: int) -> torch.Tensor:
    """Most tokens (without <eos>) each utterance may produce: a * memory length + b."""
    lengths = memory_mask.sum(1).double()
    return (max_len_a * lengths + max_len_b).floor().long().clamp(min=0)


@torch.no_grad()
def beam_search(decoder: TransformerDecoder, memory: torch.Tensor, memory_mask: torch.Tensor,
                sos: int, eos: int, beam_size: int = 5, length_penalty: float = 0.6,
                max_len_a: float = 1.5, max_len_b: int = 10, nbest: int = 1,
                scorers: Sequence[tuple[ExtraScorer, float]] = (),
                stop_when_beam_finished: bool = False, pre_beam: int | None = None) -> list[list[Hypothesis]]:
    """memory (B, S, D), memory_mask (B, S) bool -> per utterance, its n-best hypotheses sorted
    by normalized score. Put the decoder in eval mode first (dropout would randomize search).

    pre_beam (ESPnet's pre-beam, for costly scorers): each row may continue only with the
    decoder's `pre_beam` most likely tokens (or end), and the scorers score only those.

    By default an utterance ends only when its n-best provably cannot change. fairseq's rule
    (stop_when_beam_finished=True: stop once `beam` hypotheses ended) can stop while a better,
    longer hypothesis is live; it is faster when length_penalty is 0, when the default must run
    looping hypotheses to the max length (see bench/beam_search.py)."""
    if not 1 <= nbest <= beam_size:
        raise ValueError(f"nbest must be between 1 and beam_size={beam_size}, got {nbest}")
    batch, device = memory.size(0), memory.device
    beam = beam_size
    rows_of = lambda utterances: utterances.repeat_interleave(beam)

    utterances = torch.arange(batch, device=device)  # input index of each live utterance
    max_lens = max_output_lengths(memory_mask, max_len_a, max_len_b).to(device)
    # The projected memory is computed once per utterance and then copied to its beam rows.
    decoder_state = decoder.reorder_state(decoder.init_state(memory, memory_mask),
                                          rows_of(utterances))
    scorer_states = [scorer.init_state(rows_of(utterances)) for scorer, _ in scorers]
    tokens = torch.full((batch * beam, 1), sos, dtype=torch.long, device=device)
    # All beams start as the same <sos> row; only the first may expand at step 0.
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]  # n-best so far
    finished_count = [0] * batch

    for step in range(int(max_lens.max()) + 1):
        log_probs, decoder_state = decoder.step(tokens[:, -1], decoder_state)
        candidates = None
        if pre_beam is not None and pre_beam < log_probs.size(-1):
            candidates = log_probs.topk(pre_beam, dim=-1).indices
            allowed = torch.zeros_like(log_probs, dtype=torch.bool).scatter_(1, candidates, True)
            allowed[:, eos] = True
            log_probs = log_probs.masked_fill(~allowed, float("-inf"))
        for i, (scorer, weight) in enumerate(scorers):
            extra, scorer_states[i] = scorer.score(tokens, scorer_states[i], candidates)
            log_probs = log_probs + weight * extra
        vocab = log_probs.size(-1)
        log_probs = log_probs.view(-1, beam, vocab)
        at_limit = step >= max_lens
        if bool(at_limit.any()):
            only_eos = torch.full((vocab,), float("-inf"), device=device)
            only_eos[eos] = 0.0
            log_probs = torch.where(at_limit[:, None, None], log_probs + only_eos, log_probs)

        candidates = (scores[:, :, None] + log_probs).view(-1, beam * vocab)
        # Each beam has one <eos>, so 2*beam candidates always hold `beam` that continue.
        top_scores, top_ids = candidates.topk(min(2 * beam, beam * vocab), dim=1)
        top_beams, top_tokens = top_ids // vocab, top_ids % vocab
        is_eos = top_tokens == eos

        ends = is_eos[:, :beam] & top_scores[:, :beam].isfinite()
        if bool(ends.any()):
            collect_finished(finished, finished_count, ends, utterances, top_scores, top_beams,
                             tokens, beam, (step + 1) ** length_penalty, nbest)

        # The first `beam` non-<eos> candidates, in score order.
        order = torch.arange(top_ids.size(1), device=device) + is_eos * top_ids.size(1)
        keep = order.argsort(dim=1)[:, :beam]
        scores = top_scores.gather(1, keep)
        source_rows = top_beams.gather(1, keep) + beam * torch.arange(len(keep), device=device)[:, None]
        next_tokens = top_tokens.gather(1, keep)

        done = at_limit | nbest_is_final(finished, utterances, scores, nbest, length_penalty,
                                         step, max_lens)
        if stop_when_beam_finished:
            done |= torch.tensor([finished_count[u] >= beam for u in utterances.tolist()],
                                 dtype=torch.bool, device=device)
        if bool(done.all()):
            break
        live = ~done
        rows = source_rows[live].view(-1)
        tokens = torch.cat([tokens[rows], next_tokens[live].view(-1, 1)], 1)
        decoder_state = decoder.reorder_state(decoder_state, rows)
        scorer_states = [scorer.reorder_state(state, rows)
                         for (scorer, _), state in zip(scorers, scorer_states)]
        scores, utterances, max_lens = scores[live], utterances[live], max_lens[live]

    return finished


def collect_finished(finished, finished_count, ends, utterances, top_scores, top_beams, tokens,
                     beam, length_norm, nbest):
    """Adds the <eos> candidates `ends` (U, beam) to each utterance's n-best, kept sorted."""
    live_index = ends.nonzero()[:, 0]
    rows = live_index * beam + top_beams[:, :beam][ends]
    prefixes = tokens[rows, 1:].tolist()
    for utterance, prefix, score in zip(utterances[live_index].tolist(), prefixes,
                                        top_scores[:, :beam][ends].tolist()):
        finished_count[utterance] += 1
        hyps = finished[utterance]
        hyps.append(Hypothesis(prefix, score, score / length_norm))
        hyps.sort(key=lambda h: -h.normalized_score)
        del hyps[nbest:]


def nbest_is_final(finished, utterances, live_scores, nbest, length_penalty, step, max_lens):
    """(U,) bool: no live beam can still beat the worst of the n-best. A live score only falls
    as tokens are added, and its length norm is largest for the shortest or the longest
    completion, which bounds the normalized score it can still reach."""
    final = []
    best_live = live_scores.max(1).values.tolist()
    for utterance, best, max_len in zip(utterances.tolist(), best_live, max_lens.tolist()):
        hyps = finished[utterance]
        norm = max((step + 2) ** length_penalty, (max_len + 1) ** length_penalty)
        final.append(len(hyps) == nbest and best / norm <= hyps[-1].normalized_score)
    return torch.tensor(final, dtype=torch.bool, device=utterances.device)


def greedy_search(decoder: TransformerDecoder, memory: torch.Tensor, memory_mask: torch.Tensor,
                  sos: int, eos: int, max_len_a: float = 1.5, max_len_b: int = 10) -> list[Hypothesis]:
    """Most likely next token at every step: beam search with a beam of one."""
    nbests = beam_search(decoder, memory, memory_mask, sos, eos, beam_size=1, length_penalty=0.0,
                         max_len_a=max_len_a, max_len_b=max_len_b)
    return [hyps[0] for hyps in nbests]
