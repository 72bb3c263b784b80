"""A LegoNN model (paper eq. 9): a chain of encoder modules, each ending in a CTC softmax over
its interface, and an optional decoder module (ingestor + autoregressive decoder).

The same class also builds the paper's baselines: an encoder-decoder (no interface; the decoder
attends to hidden states, CE only) and an encoder-only CTC model (no decoder)."""
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from torch import nn

from legonn.ctc.loss import ctc_loss
from legonn.nets.decoder import TransformerDecoder
from legonn.nets.encoder import EncoderOutput, LegoNNEncoder
from legonn.nets.interface import Interface
from legonn.nets.layers import padding_mask

IGNORE_ID = -1


class DecoderModule(nn.Module):
    """Ingestor + decoder. Without an ingestor (enc-dec baseline) it reads hidden states."""

    def __init__(self, decoder: TransformerDecoder, ingestor: nn.Module | None = None):
        super().__init__()
        self.ingestor = ingestor
        self.decoder = decoder

    def memory(self, encoded: EncoderOutput) -> tuple[torch.Tensor, torch.Tensor]:
        if self.ingestor is None:
            return encoded.hidden, encoded.lengths
        return self.ingestor(encoded.log_probs, encoded.lengths)


def ctc_loss_masking_infeasible(log_probs, lengths, targets, target_lengths):
    """Summed CTC loss over utterances whose target fits in `lengths` frames (a target needs a
    frame per token plus one blank between repeated tokens); the rest are masked, never NaN.
    Returns (loss sum, number of infeasible utterances)."""
    targets = targets.clamp(min=0)
    valid = padding_mask(target_lengths, targets.size(1))
    repeats = ((targets[:, 1:] == targets[:, :-1]) & valid[:, 1:]).sum(1)
    feasible = lengths >= target_lengths + repeats
    per_utterance = ctc_loss(log_probs, lengths, targets, target_lengths, blank=0)
    return (per_utterance * feasible).sum(), (~feasible).sum()


class LegoNNModel(AbsESPnetModel):
    def __init__(self, encoders: Sequence[LegoNNEncoder], decoder: DecoderModule | None,
                 interfaces: Sequence[Interface], output_interface: Interface | None,
                 input_key: str = "src_text", ctc_weights: Sequence[float] | None = None,
                 ce_weight: float = 1.0, lsm_weight: float = 0.1,
                 normalize: nn.Module | None = None, specaug: nn.Module | None = None,
                 input_marginals: nn.Module | None = None):
        super().__init__()
        if len(interfaces) not in (0, len(encoders)):
            raise ValueError(f"{len(encoders)} encoder modules need {len(encoders)} interfaces, "
                             f"got {len(interfaces)}")
        if decoder is None and not interfaces:
            raise ValueError("a model without a decoder needs a CTC interface")
        self.encoders = nn.ModuleList(encoders)
        self.decoder = decoder
        self.interfaces = list(interfaces)
        self.output_interface = output_interface
        self.input_key = input_key
        self.ctc_weights = list(ctc_weights) if ctc_weights is not None else [1.0] * len(interfaces)
        if len(self.ctc_weights) != len(self.interfaces):
            raise ValueError(f"ctc_weights {self.ctc_weights} must have one weight per interface "
                             f"({len(self.interfaces)})")
        self.ce_weight = ce_weight
        self.lsm_weight = lsm_weight
        self.normalize = normalize
        self.specaug = specaug
        # Text-only training of a middle module: input symbols become marginals (no weights, so
        # the first encoder module is exactly a middle module and exports as one).
        self.input_marginals = input_marginals

    @property
    def sos_eos(self) -> int:
        return self.output_interface.sos_eos_id

    def encode(self, inputs: torch.Tensor, lengths: torch.Tensor) -> list[EncoderOutput]:
        """Runs the encoder chain; element i holds module i's states and interface marginals."""
        if self.normalize is not None:
            inputs, lengths = self.normalize(inputs, lengths)
        if self.specaug is not None and self.training:
            inputs, lengths = self.specaug(inputs, lengths)
        if self.input_marginals is not None:
            inputs, lengths = self.input_marginals(inputs, lengths)
        outputs = [self.encoders[0](inputs, lengths)]
        for encoder in self.encoders[1:]:
            outputs.append(encoder(outputs[-1].log_probs, outputs[-1].lengths))
        return outputs

    def decoder_memory(self, outputs: list[EncoderOutput]):
        return self.decoder.memory(outputs[-1])

    def forward(self, text: torch.Tensor, text_lengths: torch.Tensor, **batch):
        inputs, lengths = batch[self.input_key], batch[f"{self.input_key}_lengths"]
        batch_size = inputs.size(0)
        outputs = self.encode(inputs, lengths)
        loss = inputs.new_zeros(())
        stats: dict[str, torch.Tensor] = {}
        for i, (encoded, weight) in enumerate(zip(outputs, self.ctc_weights)):
            ctc_sum, infeasible = ctc_loss_masking_infeasible(
                encoded.log_probs, encoded.lengths, batch[f"ctc{i}"], batch[f"ctc{i}_lengths"])
            loss_ctc = ctc_sum / batch_size
            loss = loss + weight * loss_ctc
            stats[f"loss_ctc{i}"] = loss_ctc.detach()
            stats[f"ctc{i}_infeasible"] = infeasible.detach().float()
        if self.decoder is not None:
            loss_ce, accuracy = self.cross_entropy(outputs, text, text_lengths)
            loss = loss + self.ce_weight * loss_ce
            stats.update(loss_ce=loss_ce.detach(), acc=accuracy.detach())
        stats["loss"] = loss.detach()
        loss, stats, weight = force_gatherable((loss, stats, batch_size), loss.device)
        return loss, stats, weight

    def cross_entropy(self, outputs, text, text_lengths):
        memory, memory_lengths = self.decoder_memory(outputs)
        memory_mask = padding_mask(memory_lengths, memory.size(1))
        batch_size = text.size(0)
        column = text.new_full((batch_size, 1), self.sos_eos)
        decoder_input = torch.cat([column, text.masked_fill(text == IGNORE_ID, self.sos_eos)], 1)
        target = torch.cat([text, column.fill_(IGNORE_ID)], 1)
        target[torch.arange(batch_size), text_lengths] = self.sos_eos
        # float32 for the loss, and for the argmax: over bfloat16 logits it is several times slower on CPU
        logits = self.decoder.decoder(decoder_input, memory, memory_mask).float()
        loss = F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=IGNORE_ID,
                               label_smoothing=self.lsm_weight, reduction="sum") / batch_size
        valid = target != IGNORE_ID
        accuracy = (logits.argmax(-1)[valid] == target[valid]).float().mean()
        return loss, accuracy

    def collect_feats(self, text=None, text_lengths=None, **batch) -> dict[str, torch.Tensor]:
        """Features for ESPnet's collect_stats (global mean/variance of speech features)."""
        if self.input_key != "speech":
            return {}
        return {"feats": batch["speech"], "feats_lengths": batch["speech_lengths"]}
