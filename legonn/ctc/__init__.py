"""CTC utilities: Viterbi forced alignment and greedy decoding."""
from legonn.ctc.align import AlignResult, forced_align, greedy_decode

__all__ = ["AlignResult", "forced_align", "greedy_decode"]
