"""CTC prefix scores for joint CTC/attention beam search (Watanabe et al. 2017, the hybrid
decoding ESPnet uses), as an ExtraScorer of legonn.search.beam_search.

For a prefix g and a next token c, the score is log P_ctc(g c ...) - log P_ctc(g ...): how much
the CTC marginals lower the probability that the output starts with g c; for <eos>, the
probability that it is exactly g. Every live prefix is extended by every token of the
vocabulary at once, one pass over the T marginal positions per decoding step."""
import torch

# ESPnet's floor instead of -inf: prefixes that CTC cannot emit keep finite, comparable scores.
LOG_ZERO = -1e10


class CTCPrefixScorer:
    """log_probs (B, T, V): CTC log-marginals over the decoder's own vocabulary (blank at
    `blank`, <eos> at `eos`), lengths (B,) their valid positions."""

    def __init__(self, log_probs: torch.Tensor, lengths: torch.Tensor, blank: int, eos: int):
        batch, positions, vocab = log_probs.shape
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
        # (r (T, N, 2): prefix ending in a token / in blank, per position; prefix score; rows)
        return torch.stack([not_blank, blank], -1), x.new_zeros(len(utterance_of_row)), utterance_of_row

    def score(self, tokens: torch.Tensor, state):
        """tokens (N, t), <sos> first -> ((N, V) score of each next token, state holding every
        extension; the next call keeps the one each row took, tokens[:, -1])."""
        r, prefix_score, rows = state
        if tokens.size(1) > 1:  # the previous call scored every token: keep the chosen ones
            taken = tokens[:, -1]
            index = torch.arange(len(taken), device=taken.device)
            r, prefix_score = r[:, index, taken], prefix_score[index, taken]
        x = self.marginals[:, rows]  # (T, N, V)
        positions = x.size(0)
        last = tokens[:, -1] if tokens.size(1) > 1 else torch.full_like(tokens[:, 0], -1)
        # Paths into a new token c leave the prefix in blank, or in its last token when c differs.
        repeats = torch.arange(x.size(-1), device=x.device)[None] == last[:, None]  # (N, V)
        phi = torch.where(repeats, r[..., 1][..., None], torch.logaddexp(r[..., 0], r[..., 1])[..., None])
        extended = torch.full((positions, *x.shape[1:], 2), LOG_ZERO, device=x.device)
        if tokens.size(1) == 1:
            extended[0, ..., 0] = x[0]
        for t in range(1, positions):
            extended[t, ..., 0] = torch.logaddexp(extended[t - 1, ..., 0], phi[t - 1]) + x[t]
            extended[t, ..., 1] = (torch.logaddexp(extended[t - 1, ..., 0], extended[t - 1, ..., 1])
                                   + x[t, :, self.blank, None])
        starts = phi[:-1] + x[1:]  # (T-1, N, V): the new token's first position is t
        extension_score = torch.logaddexp(extended[0, ..., 0], starts.logsumexp(0)) if positions > 1 \
            else extended[0, ..., 0]
        extension_score[:, self.eos] = torch.logaddexp(r[-1, :, 0], r[-1, :, 1])
        extension_score[:, self.blank] = LOG_ZERO
        extension_score = extension_score.clamp(min=LOG_ZERO)
        scores = (extension_score - prefix_score[:, None]).clamp(max=0.0)
        return scores, (extended, extension_score, rows)

    def reorder_state(self, state, index: torch.Tensor):
        r, prefix_score, rows = state
        return r[:, index], prefix_score[index], rows[index]
