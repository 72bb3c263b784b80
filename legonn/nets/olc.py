"""Output Length Controller (paper III-C1): K = ceil(ratio * T) position queries that
cross-attend to the T encoder states, so a module's output length can match what the next
module was trained on, with fractional up- or down-sampling.

With ``uniform_copy`` each query also carries the state at its proportional input position
(floor(k / ratio), the "uniform copy" of Gu et al., 2018, non-autoregressive MT). Position-only
queries (the paper's OLC) attend uniformly at first, so the CTC loss behind them stays on its
plateau until attention has learned to align. On AN4 (0.7 h of speech) that did not happen
within the training budget; with the copy, every AN4 model learned (egs2/an4/asr1/RESULTS.md)."""
from fractions import Fraction

import torch
from torch import nn

from legonn.nets.layers import Dropout, TransformerStack, padding_mask, sinusoidal_positions


class OutputLengthController(nn.Module):
    def __init__(self, dim: int, ratio: float, max_len: int, heads: int = 4, ffn_dim: int = 1024,
                 layers: int = 2, dropout: float = 0.1, attention_dropout: float = 0.0,
                 uniform_copy: bool = False):
        super().__init__()
        if ratio <= 0 or max_len < 1:
            raise ValueError(f"OLC needs ratio > 0 and max_len >= 1, got ratio={ratio}, max_len={max_len}")
        # Exact rational arithmetic: float ceil(0.1 * 30) would give 4, not 3.
        self.ratio = Fraction(str(ratio)).limit_denominator(10_000)
        self.max_len = max_len
        self.uniform_copy = uniform_copy
        self.learned_positions = nn.Embedding(max_len, dim)
        nn.init.normal_(self.learned_positions.weight, std=dim ** -0.5)
        self.blocks = TransformerStack(dim, heads, ffn_dim, layers, dropout, attention_dropout,
                                       cross_attention=True)
        self.dropout = Dropout(dropout)

    def output_lengths(self, input_lengths: torch.Tensor) -> torch.Tensor:
        num, den = self.ratio.numerator, self.ratio.denominator
        ceil = -((-input_lengths * num) // den)
        return ceil.clamp(min=1, max=self.max_len)

    def copy_positions(self, lengths: torch.Tensor, k: int) -> torch.Tensor:
        """(B, k) input position of each output position: floor(k / ratio), within the utterance."""
        num, den = self.ratio.numerator, self.ratio.denominator
        positions = torch.arange(k, device=lengths.device)[None, :] * den // num
        return torch.minimum(positions, (lengths - 1).clamp(min=0)[:, None])

    def forward(self, states: torch.Tensor, lengths: torch.Tensor):
        """states (B, T, D), lengths (B,) -> (B, K, D), output lengths (B,)."""
        out_lengths = self.output_lengths(lengths)
        k = int(out_lengths.max())
        queries = sinusoidal_positions(k, states.size(-1), states.device) + self.learned_positions.weight[:k]
        queries = queries.unsqueeze(0).expand(states.size(0), -1, -1)
        if self.uniform_copy:
            index = self.copy_positions(lengths, k)[..., None].expand(-1, -1, states.size(-1))
            queries = queries + torch.gather(states, 1, index)
        queries = self.dropout(queries)
        out = self.blocks(queries, padding_mask(out_lengths, k), states, padding_mask(lengths, states.size(1)))
        return out, out_lengths
