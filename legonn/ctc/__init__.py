"""CTC utilities: the loss, Viterbi forced alignment and greedy decoding."""
from legonn.ctc.align import AlignResult, forced_align, greedy_decode
from legonn.ctc.loss import ctc_loss

__all__ = ["AlignResult", "ctc_loss", "forced_align", "greedy_decode"]
