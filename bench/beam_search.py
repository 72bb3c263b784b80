"""Times legonn's batched beam search against ESPnet's BatchBeamSearch on the same decoder.

    tools/venv/bin/python bench/beam_search.py

The model is a 7.3M-parameter LegoNN MT model (dim 256, 3 encoder + 3 decoder layers, 1-layer
WEmb ingestor, 1000-token vocabulary) trained for 200 steps (batch 16) to copy sentences of a
toy bigram language (ToyLanguage, 20-40 tokens), so hypotheses end with <eos> near the source
length with peaked but ambiguous distributions; random weights instead give degenerate output
(always the max length, or <eos> at once). Training takes ~5 min on 2 free cores; the weights
are cached in /tmp. Both searches get the same precomputed decoder memory and max length
(1.5 * length + 10); only the search is timed, with 2 torch threads. ESPnet decodes one sentence
at a time (it batches over the beam) through DecoderScorer, a BatchScorerInterface using the
same incremental state (self-attention cache, cross-attention keys/values computed once).

Checks: beam 1 hypotheses equal ESPnet's; at beam 5, the mean model score of legonn's best
hypotheses is at least ESPnet's under the objective legonn was given (ESPnet's search has no
length penalty and runs to the max length). Target: >= 5x ESPnet's sentences/s.
"""
import argparse
import logging
import time
from pathlib import Path

import torch
from espnet.nets.batch_beam_search import BatchBeamSearch
from espnet.nets.scorer_interface import BatchScorerInterface

from legonn.build import build_decoder_module, build_first_encoder
from legonn.model import IGNORE_ID, LegoNNModel
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface
from legonn.search import beam_search

VOCAB, DIM, LAYERS = 1000, 256, 3
MIN_LEN, MAX_LEN = 20, 40
MAX_LEN_A, MAX_LEN_B = 1.5, 10
CACHE = Path("/tmp/legonn_bench_beam_search_copy_model.pt")


def build_model() -> LegoNNModel:
    interface = Interface("copy", "word", [BLANK, UNK] + [f"w{i}" for i in range(VOCAB - 3)] + [SOS_EOS])
    layer_conf = {"dim": DIM, "heads": 4, "ffn_dim": 1024, "layers": LAYERS, "dropout": 0.1}
    encoder = build_first_encoder(layer_conf, "text", VOCAB, VOCAB)
    decoder = build_decoder_module(layer_conf, VOCAB, "wemb",
                                   {"layers": 1, "heads": 4, "ffn_dim": 1024, "dropout": 0.1}, VOCAB)
    return LegoNNModel([encoder], decoder, [interface], interface)


class ToyLanguage:
    """Sentences from a random bigram model over 100 of the 1000 tokens: every token has three
    successors with probabilities 0.6/0.3/0.1. A few hundred steps teach a model these
    transitions and the sentence length, giving peaked distributions with real choices."""

    WORDS, SUCCESSORS, PROBS = 100, 3, torch.tensor([0.6, 0.3, 0.1])

    def __init__(self, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        self.words = torch.randperm(VOCAB - 3, generator=generator)[:self.WORDS] + 2  # no specials
        # Successors never repeat the word itself, so CTC can emit every sentence frame by frame.
        shift = torch.stack([torch.randperm(self.WORDS - 1, generator=generator)[:self.SUCCESSORS] + 1
                             for _ in range(self.WORDS)])
        self.successors = (torch.arange(self.WORDS)[:, None] + shift) % self.WORDS

    def sentences(self, count: int, generator: torch.Generator):
        """(count, MAX_LEN) token ids padded with -1, and lengths."""
        lengths = torch.randint(MIN_LEN, MAX_LEN + 1, (count,), generator=generator)
        index = torch.empty(count, MAX_LEN, dtype=torch.long)
        index[:, 0] = torch.randint(self.WORDS, (count,), generator=generator)
        for t in range(1, MAX_LEN):
            choice = torch.multinomial(self.PROBS, count, replacement=True, generator=generator)
            index[:, t] = self.successors[index[:, t - 1], choice]
        tokens = self.words[index]
        tokens[torch.arange(MAX_LEN)[None] >= lengths[:, None]] = IGNORE_ID
        return tokens, lengths


def train_copy_task(model: LegoNNModel, steps: int, batch_size: int = 16):
    language, generator = ToyLanguage(), torch.Generator().manual_seed(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 100))
    model.train()
    for step in range(steps):
        tokens, lengths = language.sentences(batch_size, generator)
        loss, stats, _ = model(text=tokens, text_lengths=lengths, src_text=tokens,
                               src_text_lengths=lengths, ctc0=tokens, ctc0_lengths=lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"  train step {step:4d}: loss {float(stats['loss']):.2f}  acc {float(stats['acc']):.3f}", flush=True)


def trained_model(steps: int) -> LegoNNModel:
    torch.manual_seed(0)
    model = build_model()
    if CACHE.exists() and torch.load(CACHE)["steps"] == steps:
        model.load_state_dict(torch.load(CACHE)["model"])
        print(f"loaded the copy-task model from {CACHE}")
    else:
        print(f"training the copy-task model for {steps} steps (cached in {CACHE})")
        start = time.perf_counter()
        train_copy_task(model, steps)
        print(f"  trained in {time.perf_counter() - start:.0f} s")
        torch.save({"steps": steps, "model": model.state_dict()}, CACHE)
    return model.eval()


class DecoderScorer(BatchScorerInterface):
    """The legonn decoder as an ESPnet full scorer. A hypothesis' state is its per-layer
    self-attention cache; the utterance's cross-attention keys/values are computed once."""

    def __init__(self, decoder):
        self.decoder = decoder

    def batch_init_state(self, x):
        mask = torch.ones(1, x.size(0), dtype=torch.bool)
        state = self.decoder.init_state(x[None], mask)
        self.cross, self.memory_mask = state["cross"], state["memory_mask"]
        return None

    def batch_score(self, ys, states, xs):
        rows = ys.size(0)
        if states[0] is None:
            cache = [None] * len(self.cross)
        else:
            cache = [(torch.stack([s[layer][0] for s in states]), torch.stack([s[layer][1] for s in states]))
                     for layer in range(len(self.cross))]
        state = {"step": ys.size(1) - 1, "self": cache,
                 "cross": [(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in self.cross],
                 "memory_mask": self.memory_mask.expand(rows, -1, -1, -1)}
        log_probs, state = self.decoder.step(ys[:, -1], state)
        per_row = [[(k[i], v[i]) for k, v in state["self"]] for i in range(rows)]
        return log_probs, per_row


def max_lens(lengths):
    return [int(MAX_LEN_A * n + MAX_LEN_B) for n in lengths.tolist()]


@torch.no_grad()
def run_legonn(decoder, memory, mask, beam, penalty, fairseq_stop, batch_size):
    hyps = []
    for start in range(0, len(memory), batch_size):
        part_mask = mask[start:start + batch_size]
        width = int(part_mask.sum(1).max())
        hyps += beam_search(decoder, memory[start:start + batch_size, :width], part_mask[:, :width],
                            VOCAB - 1, VOCAB - 1, beam_size=beam, length_penalty=penalty,
                            max_len_a=MAX_LEN_A, max_len_b=MAX_LEN_B,
                            stop_when_beam_finished=fairseq_stop)
    return [h[0].tokens for h in hyps]


@torch.no_grad()
def run_espnet(decoder, memory, lengths, beam):
    search = BatchBeamSearch(scorers={"decoder": DecoderScorer(decoder)}, weights={"decoder": 1.0},
                             beam_size=beam, vocab_size=VOCAB, sos=VOCAB - 1, eos=VOCAB - 1,
                             pre_beam_score_key=None)
    results = []
    for i, (length, limit) in enumerate(zip(lengths.tolist(), max_lens(lengths))):
        best = search(memory[i, :length], maxlenratio=-limit, minlenratio=0.0)[0]
        results.append(best.yseq[1:-1].tolist())
    return results


@torch.no_grad()
def model_scores(decoder, memory, mask, hypotheses, penalty):
    """Summed log-prob of each hypothesis + <eos> by teacher forcing, / (length + 1)**penalty."""
    scores = []
    for i, tokens in enumerate(hypotheses):
        length = int(mask[i].sum())
        inputs = torch.tensor([[VOCAB - 1] + tokens])
        log_probs = decoder(inputs, memory[i:i + 1, :length], mask[i:i + 1, :length]).log_softmax(-1)[0]
        total = float(log_probs.gather(1, torch.tensor(tokens + [VOCAB - 1])[:, None]).sum())
        scores.append(total / (len(tokens) + 1) ** penalty)
    return sum(scores) / len(scores)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--batch_size", type=int, default=50, help="legonn sentences per search call")
    parser.add_argument("--train_steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(2)
    logging.disable(logging.WARNING)  # ESPnet logs every search, and warns at the max length

    model = trained_model(args.train_steps)
    decoder = model.decoder.decoder
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")
    sources, lengths = ToyLanguage().sentences(args.sentences, torch.Generator().manual_seed(2))
    with torch.no_grad():
        memory, memory_lengths = model.decoder_memory(model.encode(sources.clamp(min=0), lengths))
    mask = torch.arange(memory.size(1))[None] < memory_lengths[:, None]

    print(f"\n{args.sentences} sentences of {MIN_LEN}-{MAX_LEN} tokens; legonn batch {args.batch_size}; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'search (legonn settings)':<38}{'legonn sent/s':>15}{'espnet sent/s':>15}{'speed-up':>9}"
          f"{'legonn score':>14}{'espnet score':>14}  legonn >= espnet")
    rows = [("beam 1 (greedy)", 1, 0.0, False),
            ("beam 5, lp 0.6 (paper MT)", 5, 0.6, False),
            ("beam 5, lp 0.6, fairseq stop", 5, 0.6, True),
            ("beam 5, lp 0.0 (ESPnet's objective)", 5, 0.0, False),
            ("beam 5, lp 0.0, fairseq stop", 5, 0.0, True)]
    espnet_runs = {}
    for name, beam, penalty, fairseq_stop in rows:
        ours, our_time = timed(run_legonn, decoder, memory, mask, beam, penalty, fairseq_stop,
                               args.batch_size)
        if beam not in espnet_runs:  # ESPnet's search does not depend on the legonn settings
            espnet_runs[beam] = timed(run_espnet, decoder, memory, memory_lengths, beam)
        theirs, their_time = espnet_runs[beam]
        rate, their_rate = args.sentences / our_time, args.sentences / their_time
        # Both scored as the objective legonn was given: summed log-prob / (length+1)**lp.
        our_score = model_scores(decoder, memory, mask, ours, penalty)
        their_score = model_scores(decoder, memory, mask, theirs, penalty)
        verdict = "yes" if our_score >= their_score - 1e-4 else "NO"
        print(f"{name:<38}{rate:>15.1f}{their_rate:>15.1f}{rate / their_rate:>8.1f}x"
              f"{our_score:>14.4f}{their_score:>14.4f}  {verdict}", flush=True)
        if beam == 1:
            same = sum(a == b for a, b in zip(ours, theirs))
            out_lengths = [len(t) for t in ours]
            print(f"  beam 1 hypotheses identical to ESPnet's: {same}/{len(ours)}; output lengths "
                  f"{min(out_lengths)}-{max(out_lengths)}, mean {sum(out_lengths) / len(ours):.1f} "
                  f"(sources: mean {lengths.float().mean():.1f})", flush=True)


if __name__ == "__main__":
    main()
