"""Pre-LN transformer pieces shared by the encoder, OLC, ingestors and decoder."""
import math

import torch
import torch.nn.functional as F
from torch import nn


def padding_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(B, T) bool mask, True at valid positions."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def sinusoidal_positions(length: int, dim: int, device=None, offset: int = 0) -> torch.Tensor:
    """(length, dim) sinusoidal position table (Vaswani et al.), starting at `offset`."""
    position = torch.arange(offset, offset + length, device=device, dtype=torch.float32)[:, None]
    inv_freq = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * inv_freq)
    table[:, 1::2] = torch.cos(position * inv_freq[: dim // 2])
    return table


def cpu_dropout_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted-dropout mask for `x`, from 16 random bits per element, four from each 64-bit
    draw: torch's CPU bernoulli_ draws for every element and takes about as long as the matrix
    product before it (bench/train_step.py --profile). Drops with probability round(p * 2**16)
    / 2**16 (0.1 becomes 0.100006)."""
    count = x.numel()
    bits = torch.empty((count + 3) // 4, dtype=torch.int64).random_(-2**63, None)
    bits = bits.view(torch.int16)[:count].view(x.shape)
    dropped = round(p * 2**16)
    return (bits >= dropped - 2**15).to(x.dtype) * (2**16 / (2**16 - dropped))


class Dropout(nn.Dropout):
    """nn.Dropout with a cheaper mask on CPU (cpu_dropout_mask); elsewhere nn.Dropout itself."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0 < self.p < 1 or not x.is_cpu or self.inplace:
            return super().forward(x)
        return x * cpu_dropout_mask(x, self.p)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with an optional key/value cache for incremental decoding.

    SDPA returns no attention weights. With ``keep_weights`` set (legonn.tasks.images does, for
    the pictures drawn while training), ``weights`` holds the (B, H, Tq, Tk) weights of the
    last call, computed beside SDPA: the output stays SDPA's, and nothing extra is computed
    unless asked."""

    keep_weights = False

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        assert dim % heads == 0, f"model dim {dim} is not divisible by {heads} heads"
        self.heads = heads
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        return x.view(batch, length, self.heads, dim // self.heads).transpose(1, 2)

    def project_key_value(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        key, value = self.key_value(memory).chunk(2, dim=-1)
        return self.split_heads(key), self.split_heads(value)

    def attend(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               mask: torch.Tensor | None) -> torch.Tensor:
        """query (B, Tq, D); key/value (B, H, Tk, D/H); mask broadcastable to (B, 1, Tq, Tk)."""
        q = self.split_heads(self.query(query))
        drop = self.dropout if self.training else 0.0
        # Under CPU bfloat16 autocast SDPA's backward takes 4x as long as the same attention
        # written as matrix products, which autocast runs in bfloat16.
        as_products = q.is_cpu and torch.is_autocast_enabled("cpu")
        weights = self.attention_weights(q, key, mask) if as_products or self.keep_weights else None
        if as_products:
            context = F.dropout(weights, drop) @ value
        else:
            context = F.scaled_dot_product_attention(q, key, value, attn_mask=mask, dropout_p=drop)
        if self.keep_weights:
            self.weights = weights
        batch, _, length, _ = context.shape
        return self.out(context.transpose(1, 2).reshape(batch, length, -1))

    @staticmethod
    def attention_weights(q: torch.Tensor, key: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """SDPA's softmax(q k^T / sqrt(d)) with its boolean mask (True = attend), no dropout; the
        softmax in float32 whatever the dtype of the scores."""
        scores = q @ key.transpose(-2, -1) / math.sqrt(q.size(-1))
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return scores.float().softmax(-1)

    def forward(self, query, memory, mask=None):
        key, value = self.project_key_value(memory)
        return self.attend(query, key, value, mask)


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__(nn.Linear(dim, hidden), nn.ReLU(), Dropout(dropout), nn.Linear(hidden, dim))


class TransformerBlock(nn.Module):
    """Pre-LN block (paper eq. 10-11, 13-16): self-attention, optional cross-attention, FFN."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float = 0.1,
                 attention_dropout: float = 0.0, cross_attention: bool = False):
        super().__init__()
        self.self_norm = nn.LayerNorm(dim)
        self.self_attn = MultiHeadAttention(dim, heads, attention_dropout)
        if cross_attention:
            self.cross_norm = nn.LayerNorm(dim)
            self.cross_attn = MultiHeadAttention(dim, heads, attention_dropout)
        self.ffn_norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, ffn_dim, dropout)
        self.dropout = Dropout(dropout)

    def forward(self, x: torch.Tensor, self_mask: torch.Tensor,
                memory: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        """self_mask: (B, 1, T, T) or (B, 1, 1, T) bool; memory_mask (B, 1, 1, S) bool."""
        h = self.self_norm(x)
        x = x + self.dropout(self.self_attn(h, h, self_mask))
        if memory is not None:
            x = x + self.dropout(self.cross_attn(self.cross_norm(x), memory, memory_mask))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))


class TransformerStack(nn.Module):
    """N self-attention blocks and a final LayerNorm over a padded batch."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, layers: int, dropout: float = 0.1,
                 attention_dropout: float = 0.0, cross_attention: bool = False):
        super().__init__()
        self.blocks = nn.ModuleList(
            TransformerBlock(dim, heads, ffn_dim, dropout, attention_dropout, cross_attention)
            for _ in range(layers)
        )
        self.final_norm = nn.LayerNorm(dim)

    def forward(self, x, mask, memory=None, memory_mask=None):
        """x (B, T, D), mask (B, T) bool; memory (B, S, D), memory_mask (B, S) bool."""
        self_mask = mask[:, None, None, :]
        cross_mask = None if memory_mask is None else memory_mask[:, None, None, :]
        for block in self.blocks:
            x = block(x, self_mask, memory, cross_mask)
        return self.final_norm(x)
