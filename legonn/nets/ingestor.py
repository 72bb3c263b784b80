"""Ingestors (paper III-D): turn the previous module's interface marginals (B, K, V) into
(B, K, D) states. WEmb is differentiable; BeamConv sees only top-k indices, so no gradient
reaches the previous module."""
import math
from collections.abc import Sequence

import torch
from torch import nn

from legonn.nets.layers import Dropout, TransformerStack, padding_mask, sinusoidal_positions


class Ingestor(nn.Module):
    """Shared tail: sinusoidal positions, dropout, transformer blocks, final LayerNorm."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, layers: int, dropout: float,
                 attention_dropout: float):
        super().__init__()
        self.dropout = Dropout(dropout)
        self.blocks = TransformerStack(dim, heads, ffn_dim, layers, dropout, attention_dropout)

    def embed(self, log_probs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, log_probs: torch.Tensor, lengths: torch.Tensor):
        mask = padding_mask(lengths, log_probs.size(1))
        x = self.embed(log_probs, mask)
        x = x + sinusoidal_positions(x.size(1), x.size(2), x.device)
        return self.blocks(self.dropout(x), mask), lengths


class WEmbIngestor(Ingestor):
    """Expected embedding P @ W (eq. 17); with receptive field rf > 1 a Conv1d over P, which can
    learn the previous module's local confusions.

    `shared_embedding`: W is that table (the decoder's token embedding when the interface is the
    output vocabulary, as the paper shares "input embedding tables ... where applicable",
    IV-B), so the interface's tokens and the decoder's own history live in one space. Needs
    rf 1 and a table with one row per interface token."""

    def __init__(self, interface_size: int, dim: int, rf: int = 1, heads: int = 4,
                 ffn_dim: int = 1024, layers: int = 3, dropout: float = 0.1,
                 attention_dropout: float = 0.0, shared_embedding: nn.Embedding | None = None):
        super().__init__(dim, heads, ffn_dim, layers, dropout, attention_dropout)
        if rf < 1 or rf % 2 == 0:
            raise ValueError(f"WEmb receptive field must be odd and >= 1, got {rf}")
        self.scale = math.sqrt(dim)
        self.shared_embedding = shared_embedding
        if shared_embedding is not None:
            if rf != 1 or tuple(shared_embedding.weight.shape) != (interface_size, dim):
                raise ValueError(f"a shared embedding needs rf 1 and a ({interface_size}, {dim}) table, "
                                 f"got rf {rf} and {tuple(shared_embedding.weight.shape)}")
            self.conv = None
            return
        self.conv = nn.Conv1d(interface_size, dim, rf, padding=rf // 2, bias=rf > 1)
        nn.init.normal_(self.conv.weight, std=dim ** -0.5)

    def embed(self, log_probs, mask):
        probs = log_probs.exp()
        if self.shared_embedding is not None or self.conv.kernel_size[0] == 1:
            # Position by position: padding is zeroed in the (B, K, D) product rather than in the
            # (B, K, V) marginals, a quarter of the work for a 1002-token interface.
            weight = self.shared_embedding.weight.t() if self.conv is None else self.conv.weight[..., 0]
            return nn.functional.linear(probs, weight) * (mask[..., None] * self.scale)
        probs = probs * mask[..., None]  # a wider kernel reads neighbouring positions
        return self.conv(probs.transpose(1, 2)).transpose(1, 2) * self.scale


class BeamConvIngestor(Ingestor):
    """Embeddings of the top-k token indices per position (eq. 19-21), convolved over
    (time, rank) into one vector per position."""

    def __init__(self, interface_size: int, dim: int, beam: int = 10, embed_dim: int = 100,
                 rf: int = 1, heads: int = 4, ffn_dim: int = 1024, layers: int = 3,
                 dropout: float = 0.1, attention_dropout: float = 0.0):
        super().__init__(dim, heads, ffn_dim, layers, dropout, attention_dropout)
        if rf < 1 or rf % 2 == 0:
            raise ValueError(f"BeamConv receptive field must be odd and >= 1, got {rf}")
        self.beam = min(beam, interface_size)
        self.embedding = nn.Embedding(interface_size, embed_dim)
        self.conv = nn.Conv2d(embed_dim, dim, (rf, self.beam), padding=(rf // 2, 0))

    def embed(self, log_probs, mask):
        top = log_probs.detach().topk(self.beam, dim=-1).indices  # (B, K, beam)
        r = self.embedding(top) * mask[..., None, None]  # (B, K, beam, E)
        if self.conv.kernel_size[0] == 1:  # one product over the ranks' embeddings, as in embed above
            weight = self.conv.weight[:, :, 0].transpose(1, 2).flatten(1)  # (D, beam * E), rank-major as r
            return nn.functional.linear(r.flatten(2), weight, self.conv.bias)
        return self.conv(r.permute(0, 3, 1, 2)).squeeze(-1).transpose(1, 2)


class SymbolMarginals(nn.Module):
    """Token ids -> interface log-marginals, so a middle module (e.g. a pronunciation model) can
    be trained from text alone: g2p phone sequences become near-one-hot distributions. In
    training, `confusion` of the positions get a random token, imitating recognizer errors.

    `stretch` (low, high) imitates a CTC recognizer's peaky output, which the module reads once
    composed: L symbols are spread over about s x L positions, the rest blank, with s drawn from
    [low, high] per sequence and the symbols at random positions in training (evenly spaced, s =
    the midpoint, in evaluation). Without it, the module would learn on inputs with no blanks and
    a length its OLC never sees in the composed model."""

    TRAINING_KEYS = ("smoothing", "confusion", "stretch")  # not part of the exported module

    @classmethod
    def from_conf(cls, interface_size: int, conf: dict) -> "SymbolMarginals":
        return cls(interface_size, **{k: conf[k] for k in cls.TRAINING_KEYS if k in conf})

    @classmethod
    def module_conf(cls, conf: dict) -> dict:
        """The middle module's own configuration: `conf` without the training-only keys."""
        return {k: v for k, v in conf.items() if k not in cls.TRAINING_KEYS}

    def __init__(self, interface_size: int, smoothing: float = 0.05, confusion: float = 0.0,
                 stretch: Sequence[float] | None = None, first_regular_id: int = 2,
                 blank_id: int = 0):
        super().__init__()
        self.size, self.smoothing, self.confusion = interface_size, smoothing, confusion
        if stretch is not None and not (len(stretch) == 2 and 1.0 <= stretch[0] <= stretch[1]):
            raise ValueError(f"stretch must be [low, high] with 1 <= low <= high, got {stretch}")
        self.stretch = tuple(stretch) if stretch is not None else None
        self.first_regular_id = first_regular_id  # skip <blank> and <unk>
        self.blank_id = blank_id

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor):
        tokens = tokens.clamp(min=0)
        if self.training and self.confusion > 0:
            confused = torch.rand(tokens.shape, device=tokens.device) < self.confusion
            random = torch.randint_like(tokens, self.first_regular_id, self.size - 1)
            tokens = torch.where(confused, random, tokens)
        if self.stretch is not None:
            tokens, lengths = self.spread(tokens, lengths)
        probs = nn.functional.one_hot(tokens, self.size).float()
        probs = probs * (1 - self.smoothing) + self.smoothing / self.size
        return probs.log(), lengths

    def spread(self, tokens: torch.Tensor, lengths: torch.Tensor):
        low, high = self.stretch
        factors = (torch.empty(len(lengths)).uniform_(low, high) if self.training
                   else torch.full((len(lengths),), (low + high) / 2))
        new_lengths = torch.maximum((lengths.cpu() * factors).round().long(), lengths.cpu())
        out = tokens.new_full((len(lengths), int(new_lengths.max())), self.blank_id)
        for b, (n, m) in enumerate(zip(lengths.tolist(), new_lengths.tolist())):
            if self.training:
                positions = torch.randperm(m, device=tokens.device)[:n].sort().values
            else:
                positions = (torch.arange(n, device=tokens.device) * m) // max(n, 1)
            out[b, positions] = tokens[b, :n]
        return out, new_lengths.to(lengths.device)
