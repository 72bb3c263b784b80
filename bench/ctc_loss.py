"""Times the interface's CTC loss, forward and backward through log-softmax, as a LegoNN model
trains it: legonn's (legonn.ctc.ctc_loss, numba over each utterance's own states) against
torch's F.ctc_loss, one thread, on the Multi30k interface's shapes (V = 1002 BPE tokens, K = 2T
= 60 frames, targets of up to 28 tokens) for a DDP rank's batch of issue 14's 128-dim model (24
sentences) and a batch of the 256-dim recipe (91), and on spoken Multi30k's phone interface (42
phones, about 60 frames after the OLC, up to 35 phones).

    tools/venv/bin/python bench/ctc_loss.py

Both give the same losses and logit gradients (test/test_ctc_loss.py); the script checks it
again on these batches before timing.
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from legonn.ctc import ctc_loss

REPEATS = 20
SHAPES = {  # batch, frames, interface size, most target tokens
    "24 sentences, BPE interface (a DDP rank's batch of issue 14's model)": (24, 60, 1002, 28),
    "91 sentences, BPE interface (a batch of the 256-dim recipe)": (91, 60, 1002, 28),
    "32 utterances, phone interface (spoken Multi30k)": (32, 60, 42, 35),
}


def make_batch(batch: int, frames: int, vocab: int, tokens: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = torch.from_numpy(rng.standard_normal((batch, frames, vocab), dtype=np.float32))
    input_lengths = torch.from_numpy(rng.integers(frames - 10, frames + 1, batch))
    target_lengths = torch.from_numpy(rng.integers(tokens - 8, tokens + 1, batch))
    targets = torch.from_numpy(rng.integers(2, vocab - 1, (batch, tokens)))
    return logits, input_lengths, targets, target_lengths


def torch_ctc_loss(log_probs, input_lengths, targets, target_lengths):
    return F.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths, target_lengths,
                      reduction="none", zero_infinity=True)


def loss_and_gradient(loss_fn, logits, *rest):
    leaf = logits.clone().requires_grad_()
    loss = loss_fn(leaf.log_softmax(-1), *rest)
    loss.sum().backward()
    return loss.detach(), leaf.grad


def seconds_per_call(loss_fn, batch) -> float:
    loss_and_gradient(loss_fn, *batch)  # numba compiles (or loads its cache) on the first call
    start = time.perf_counter()
    for _ in range(REPEATS):
        loss_and_gradient(loss_fn, *batch)
    return (time.perf_counter() - start) / REPEATS


def main():
    torch.set_num_threads(1)
    print("CTC loss + log-softmax, forward and backward, 1 thread")
    print("| batch | torch F.ctc_loss ms | legonn ctc_loss ms | legonn vs torch | max loss difference | max gradient difference |")
    print("|---|---|---|---|---|---|")
    for name, shape in SHAPES.items():
        batch = make_batch(*shape)
        (expected, expected_grad), (loss, grad) = (loss_and_gradient(fn, *batch)
                                                   for fn in (torch_ctc_loss, ctc_loss))
        # torch accumulates in float32, legonn in float64
        torch.testing.assert_close(grad, expected_grad, rtol=1e-3, atol=1e-3)
        torch_s, legonn_s = seconds_per_call(torch_ctc_loss, batch), seconds_per_call(ctc_loss, batch)
        print(f"| {name} | {torch_s * 1e3:.2f} | {legonn_s * 1e3:.2f} | {legonn_s / torch_s:.2f}x "
              f"| {(loss - expected).abs().max().item():.1e} | {(grad - expected_grad).abs().max().item():.1e} |")


if __name__ == "__main__":
    main()
