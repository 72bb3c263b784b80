"""LegoNN encoder module (paper III-C): input frontend, transformer blocks, final LayerNorm,
optional Output Length Controller, and a CTC softmax over the module's interface vocabulary."""
import math
from dataclasses import dataclass

import torch
from torch import nn

from legonn.nets.layers import Dropout, TransformerStack, padding_mask, sinusoidal_positions
from legonn.nets.olc import OutputLengthController


class Conv2dSubsampling(nn.Module):
    """Paper IV-A: two blocks of 3x3 conv (64, 128 maps), ReLU and 2x2 max-pool: T -> T // 4."""

    def __init__(self, input_dim: int, dim: int, channels=(64, 128)):
        super().__init__()
        self.convs = nn.ModuleList()
        in_channels = 1
        for out_channels in channels:
            self.convs.append(nn.Conv2d(in_channels, out_channels, 3, padding=1))
            in_channels = out_channels
        freq = input_dim
        for _ in channels:
            freq //= 2
        self.project = nn.Linear(in_channels * freq, dim)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor):
        x = feats.unsqueeze(1)  # (B, 1, T, F)
        for conv in self.convs:
            # Zeroing padded frames after each layer keeps a padded batch equal to single utterances.
            x = torch.relu(conv(x)) * padding_mask(lengths, x.size(2))[:, None, :, None]
            x = nn.functional.max_pool2d(x, 2)
            lengths = lengths // 2
            x = x * padding_mask(lengths, x.size(2))[:, None, :, None]
        batch, channels, time, freq = x.shape
        x = self.project(x.transpose(1, 2).reshape(batch, time, channels * freq))
        return x, lengths


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        nn.init.normal_(self.embed.weight, std=dim ** -0.5)
        self.scale = math.sqrt(dim)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor):
        # The collate function pads with -1; padded positions are masked downstream.
        return self.embed(tokens.clamp(min=0)) * self.scale, lengths


@dataclass
class EncoderOutput:
    hidden: torch.Tensor  # (B, K, D), the states the CTC head reads
    lengths: torch.Tensor  # (B,)
    log_probs: torch.Tensor | None  # (B, K, V) interface log-marginals, None without a CTC head


class LegoNNEncoder(nn.Module):
    """`frontend` maps (inputs, lengths) to (B, T, D) states: speech convolutions, a token
    embedding, or an ingestor of the previous module's marginals (a middle module)."""

    def __init__(self, frontend: nn.Module, dim: int, heads: int = 4, ffn_dim: int = 1024,
                 layers: int = 6, dropout: float = 0.1, attention_dropout: float = 0.0,
                 olc: dict | None = None, interface_size: int | None = None,
                 add_positions: bool = True):
        super().__init__()
        self.frontend = frontend
        self.add_positions = add_positions
        self.dropout = Dropout(dropout)
        self.blocks = TransformerStack(dim, heads, ffn_dim, layers, dropout, attention_dropout)
        self.olc = None
        if olc is not None:
            olc = {"heads": heads, "ffn_dim": ffn_dim, "dropout": dropout,
                   "attention_dropout": attention_dropout, **olc}
            self.olc = OutputLengthController(dim, **olc)
        self.ctc_head = nn.Linear(dim, interface_size) if interface_size else None

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        x, lengths = self.frontend(inputs, lengths)
        if self.add_positions:
            x = x + sinusoidal_positions(x.size(1), x.size(2), x.device)
        x = self.blocks(self.dropout(x), padding_mask(lengths, x.size(1)))
        if self.olc is not None:
            x, lengths = self.olc(x, lengths)
        log_probs = None if self.ctc_head is None else self.ctc_head(x).float().log_softmax(-1)
        return EncoderOutput(x, lengths, log_probs)
