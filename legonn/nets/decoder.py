"""Autoregressive transformer decoder (paper III-D) attending to ingestor outputs, with an
incremental state (cached self-attention keys/values, precomputed cross-attention keys/values)
for batched beam search."""
import math

import torch
from torch import nn

from legonn.nets.layers import Dropout, TransformerStack, sinusoidal_positions

State = dict[str, object]


class TransformerDecoder(nn.Module):
    def __init__(self, vocab_size: int, dim: int, heads: int = 4, ffn_dim: int = 1024,
                 layers: int = 6, dropout: float = 0.1, attention_dropout: float = 0.0,
                 tie_embeddings: bool = True):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        nn.init.normal_(self.embed.weight, std=dim ** -0.5)
        self.scale = math.sqrt(dim)
        self.dropout = Dropout(dropout)
        self.stack = TransformerStack(dim, heads, ffn_dim, layers, dropout, attention_dropout,
                                      cross_attention=True)
        self.output = nn.Linear(dim, vocab_size, bias=False)
        if tie_embeddings:
            self.output.weight = self.embed.weight

    @property
    def vocab_size(self) -> int:
        return self.embed.num_embeddings

    def embed_tokens(self, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        x = self.embed(tokens) * self.scale
        return self.dropout(x + sinusoidal_positions(tokens.size(1), x.size(-1), x.device, offset))

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor):
        """Teacher forcing. tokens (B, L) start with <sos>; memory_mask (B, S) bool -> (B, L, V) logits.
        Padded target positions are computed but ignored by the loss, so causality is the only
        self-attention mask needed."""
        length = tokens.size(1)
        causal = torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
        x = self.embed_tokens(tokens)
        cross_mask = memory_mask[:, None, None, :]
        for block in self.stack.blocks:
            x = block(x, causal, memory, cross_mask)
        return self.output(self.stack.final_norm(x))

    # --- incremental decoding ---
    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> State:
        cross = [block.cross_attn.project_key_value(memory) for block in self.stack.blocks]
        return {"step": 0, "cross": cross, "memory_mask": memory_mask[:, None, None, :],
                "self": [None] * len(self.stack.blocks)}

    def step(self, last_tokens: torch.Tensor, state: State):
        """last_tokens (N,) -> (N, V) log-probs of the next token and the advanced state."""
        x = self.embed_tokens(last_tokens[:, None], offset=state["step"])
        new_self: list = []
        for block, cache, (cross_k, cross_v) in zip(self.stack.blocks, state["self"], state["cross"]):
            h = block.self_norm(x)
            key, value = block.self_attn.project_key_value(h)
            if cache is not None:
                key, value = torch.cat([cache[0], key], 2), torch.cat([cache[1], value], 2)
            new_self.append((key, value))
            x = x + block.dropout(block.self_attn.attend(h, key, value, None))
            h = block.cross_norm(x)
            x = x + block.dropout(block.cross_attn.attend(h, cross_k, cross_v, state["memory_mask"]))
            x = x + block.dropout(block.ffn(block.ffn_norm(x)))
        logits = self.output(self.stack.final_norm(x))[:, 0]
        return logits.log_softmax(-1), {**state, "step": state["step"] + 1, "self": new_self}

    @staticmethod
    def reorder_state(state: State, index: torch.Tensor) -> State:
        """Keep rows `index` (beam selection / finished-utterance pruning)."""
        pick = lambda pair: (pair[0].index_select(0, index), pair[1].index_select(0, index))
        return {
            "step": state["step"],
            "cross": [pick(kv) for kv in state["cross"]],
            "memory_mask": state["memory_mask"].index_select(0, index),
            "self": [None if kv is None else pick(kv) for kv in state["self"]],
        }
