"""CTC prefix scores for joint CTC/attention beam search (Watanabe et al. 2017, the hybrid
decoding ESPnet uses), as an ExtraScorer of legonn.search.beam_search.

For a prefix g and a next token c, the score is log P_ctc(g c ...) - log P_ctc(g ...): how much
the CTC marginals lower the probability that the output starts with g c; for <eos>, the
probability that it is exactly g. Each decoding step extends every live prefix by each of its
candidate tokens (the search's pre-beam, or the whole vocabulary) in one pass over the T
marginal positions."""
import torch

# ESPnet's floor instead of -inf: prefixes that CTC cannot emit keep finite, comparable scores.
LOG_ZERO = -1e10


class CTCPrefixScorer:
    """log_probs (B, T, V): CTC log-marginals over the decoder's own vocabulary (blank at
    `blank`, <eos> at `eos`), lengths (B,) their valid positions."""

    def __init__(self, log_probs: torch.Tensor, lengths: torch.Tensor, blank: int, eos: int):
        _, positions, vocab = log_probs.shape
        padding = torch.arange(positions, device=log_probs.device)[None] >= lengths.to(log_probs.device)[:, None]
        # Past its length an utterance emits only blanks (probability 1): the probability of the
        # whole prefix carries on to the last position, where <eos> reads it.
        only_blank = torch.full((vocab,), LOG_ZERO, device=log_probs.device, dtype=torch.float32)
        only_blank[blank] = 0.0
        marginals = torch.where(padding[..., None], only_blank, log_probs.float().clamp(min=LOG_ZERO))
        self.marginals = marginals.transpose(0, 1)  # (T, B, V)
        self.blank, self.eos = blank, eos

    def init_state(self, utterance_of_row: torch.Tensor):
        """The empty prefix: no token emitted, so every position so far was blank."""
        x = self.marginals[:, utterance_of_row]  # (T, N, V)
        not_blank = torch.full_like(x[..., 0], LOG_ZERO)
        blank = x[..., self.blank].cumsum(0).clamp(min=LOG_ZERO)
        # r (T, N, 2): the prefix's probability up to each position, ending in a token / in blank;
        # its prefix score; the utterance of each row; the tokens it was extended by (none yet).
        return torch.stack([not_blank, blank], -1), x.new_zeros(len(utterance_of_row)), utterance_of_row, None

    def score(self, tokens: torch.Tensor, state, candidates: torch.Tensor | None = None):
        """tokens (N, t), <sos> first; candidates (N, C): the next tokens to score (None: every
        token) -> ((N, V) scores, LOG_ZERO for tokens not scored; the state holding each
        extension, of which the next call keeps the one each row took: tokens[:, -1])."""
        r, prefix_score, rows, extended_by = state
        if extended_by is not None:
            column = (extended_by == tokens[:, -1:]).int().argmax(1)
            index = torch.arange(len(column), device=column.device)
            r, prefix_score = r[:, index, column], prefix_score[index, column]
        positions, _, vocab = self.marginals.shape
        if candidates is None:
            candidates = torch.arange(vocab, device=rows.device).expand(len(rows), vocab)
        # Only the columns this step reads: the candidates' (T, N, C) and the blank's (T, N).
        x_new = self.marginals[:, rows[:, None], candidates]
        x_blank = self.marginals[:, rows, self.blank]
        last = tokens[:, -1] if tokens.size(1) > 1 else torch.full_like(tokens[:, 0], -1)
        # Paths into a new token c leave the prefix in blank, or in its last token when c differs.
        phi = torch.where(candidates == last[:, None], r[..., 1, None],
                          torch.logaddexp(r[..., 0], r[..., 1])[..., None])  # (T, N, C)
        extended = torch.full((*x_new.shape, 2), LOG_ZERO, device=x_new.device)
        if tokens.size(1) == 1:
            extended[0, ..., 0] = x_new[0]
        for t in range(1, positions):
            extended[t, ..., 0] = torch.logaddexp(extended[t - 1, ..., 0], phi[t - 1]) + x_new[t]
            extended[t, ..., 1] = (torch.logaddexp(extended[t - 1, ..., 0], extended[t - 1, ..., 1])
                                   + x_blank[t, :, None])
        extension_score = extended[0, ..., 0]
        if positions > 1:  # paths whose new token starts at position t >= 1
            extension_score = torch.logaddexp(extension_score, (phi[:-1] + x_new[1:]).logsumexp(0))
        scores = x_new.new_full((len(rows), vocab), LOG_ZERO).scatter_(1, candidates, extension_score.clamp(min=LOG_ZERO))
        scores[:, self.eos] = torch.logaddexp(r[-1, :, 0], r[-1, :, 1])  # the prefix is the output
        scores[:, self.blank] = LOG_ZERO  # never a token of the decoder
        return ((scores - prefix_score[:, None]).clamp(max=0.0),
                (extended, scores.gather(1, candidates), rows, candidates))

    def reorder_state(self, state, index: torch.Tensor):
        r, prefix_score, rows, extended_by = state
        return r[:, index], prefix_score[index], rows[index], None if extended_by is None else extended_by[index]
