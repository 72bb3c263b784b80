"""Decoding: batched beam search and greedy search over the LegoNN decoder."""
from legonn.search.beam_search import ExtraScorer, Hypothesis, beam_search, greedy_search

__all__ = ["ExtraScorer", "Hypothesis", "beam_search", "greedy_search"]
