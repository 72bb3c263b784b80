"""Pictures drawn while training (ESPnet's --num_att_plot N): after every epoch, for the first N
validation utterances, exp/<tag>/images/<utt>/ gets

    interface<i>.<E>ep.png   module i's interface marginals (blank and the 30 most used symbols),
                             the greedy CTC path as red circles, greedy reading and reference
    olc<i>.<E>ep.png         module i's Output Length Controller cross-attention, one panel per layer
    decoder.<E>ep.png        the decoder's cross-attention over its ingestor's states, teacher-forced
                             on the reference, one panel per layer

(E = epoch). Attention panels are averaged over heads; an axis along interface positions is
labelled with the greedy symbol at every non-blank position, so a trained model shows which
symbol each output position emits and which symbols each target token reads."""
import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from legonn.bin import plot_marginals
from legonn.nets.layers import MultiHeadAttention

BLANK = 0
MAX_TICK_LABELS = 80  # beyond this many labelled positions an axis is numbered instead


@contextlib.contextmanager
def recording_attention(model: torch.nn.Module) -> Iterator[None]:
    """Every attention layer of `model` keeps its last weights while inside."""
    layers = [m for m in model.modules() if isinstance(m, MultiHeadAttention)]
    for layer in layers:
        layer.keep_weights = True
    try:
        yield
    finally:
        for layer in layers:
            del layer.keep_weights  # back to the class default (off)
            layer.__dict__.pop("weights", None)


def head_mean(weights: torch.Tensor, b: int, rows: int, cols: int) -> np.ndarray:
    return weights[b, :, :rows, :cols].float().mean(0).cpu().numpy()


def token_labels(ids: Sequence[int], tokens: Sequence[str]) -> list[str]:
    """Tick label per position: the symbol where it is not blank and not a repeat (the symbols a
    greedy CTC reading keeps), empty elsewhere."""
    labels = []
    for t, token in enumerate(ids):
        keep = token != BLANK and (t == 0 or token != ids[t - 1])
        labels.append(plot_marginals._label(tokens[token]) if keep else "")
    return labels


def set_ticks(axis, labels: list[str] | None) -> None:
    shown = [(i, label) for i, label in enumerate(labels or []) if label]
    if labels is None or len(shown) > MAX_TICK_LABELS:
        axis.set_major_locator(MaxNLocator(integer=True))
        return
    axis.set_ticks([i for i, _ in shown], [label for _, label in shown], fontsize=7)


def attention_figure(panels: list[tuple], title: str, xlabel: str, ylabel: str,
                     xlabels: list[str] | None = None, ylabels: list[str] | None = None) -> Figure:
    """panels: (panel title, rows x cols weights); one heatmap each, at most 3 a row."""
    rows, cols = panels[0][1].shape
    ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    # Cells stay about 0.16 inch wide so labelled positions remain legible, within screen limits.
    width = min(max(4.0, 0.16 * cols + 2.0), 14.0)
    height = min(max(3.0, 0.16 * rows + 1.5), 10.0)
    fig = Figure(figsize=(ncols * width, nrows * height + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (name, weights) in zip(axes.flat, panels):
        # Own scale per panel: diffuse (untrained) attention would be invisible on 0..1.
        image = ax.imshow(weights, aspect="auto", cmap="viridis", vmin=0.0,
                          vmax=float(weights.max()) or 1.0, interpolation="nearest")
        fig.colorbar(image, ax=ax, pad=0.01)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        set_ticks(ax.xaxis, xlabels)
        set_ticks(ax.yaxis, ylabels)
        if xlabels is not None and len(xlabels) <= MAX_TICK_LABELS:
            ax.tick_params(axis="x", labelrotation=90)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    fig.suptitle(plot_marginals._label(title), fontsize=10)
    return fig


def read(ids: Sequence[int], tokens: Sequence[str]) -> str:
    return plot_marginals.detokenize([tokens[t] for t in ids])


@torch.no_grad()
def utterance_figures(model, batch: dict[str, torch.Tensor], ids: Sequence[str],
                      epoch: int) -> dict[str, dict[str, Figure]]:
    """{utt: {picture name: figure}} for one batch of a LegoNNModel in eval mode."""
    inputs, lengths = batch[model.input_key], batch[f"{model.input_key}_lengths"]
    olc_inputs: dict[int, torch.Tensor] = {}
    hooks = [encoder.olc.register_forward_pre_hook(
                 lambda module, args, i=i: olc_inputs.__setitem__(i, args[1]))
             for i, encoder in enumerate(model.encoders) if encoder.olc is not None]
    try:
        with recording_attention(model):
            outputs = model.encode(inputs, lengths)
            olc = {i: [block.cross_attn.weights for block in model.encoders[i].olc.blocks.blocks]
                   for i in olc_inputs}
            decoder = None
            if model.decoder is not None and "text" in batch:
                _, memory_lengths = model.decoder_memory(outputs)
                model.cross_entropy(outputs, batch["text"], batch["text_lengths"])
                decoder = [block.cross_attn.weights for block in model.decoder.decoder.stack.blocks]
    finally:
        for hook in hooks:
            hook.remove()

    greedy = [None if out.log_probs is None else out.log_probs.argmax(-1).cpu() for out in outputs]
    figures: dict[str, dict[str, Figure]] = {}
    for b, utt in enumerate(ids):
        pictures = figures[utt] = {}
        labels = []  # tick labels along each interface's positions
        for i, out in enumerate(outputs):
            if out.log_probs is None:
                labels.append(None)
                continue
            interface = model.interfaces[i]
            length = int(out.lengths[b])
            labels.append(token_labels(greedy[i][b, :length].tolist(), interface.tokens))
            reference = None
            if f"ctc{i}" in batch:
                target = batch[f"ctc{i}"][b, :int(batch[f"ctc{i}_lengths"][b])]
                reference = read(target.tolist(), interface.tokens)
            pictures[f"interface{i}"] = plot_marginals.figure(
                out.log_probs[b, :length].float().cpu().numpy(), interface.tokens,
                f"{utt}, epoch {epoch}: interface {i} ({interface.name}, {interface.kind})",
                reference=reference)
        for i, layers in olc.items():
            rows, cols = int(outputs[i].lengths[b]), int(olc_inputs[i][b])
            source = "input position" if i == 0 else f"interface {i - 1} position"
            pictures[f"olc{i}"] = attention_figure(
                [(f"OLC layer {n + 1}", head_mean(w, b, rows, cols)) for n, w in enumerate(layers)],
                f"{utt}, epoch {epoch}: module {i} OLC cross-attention (mean over heads)",
                source, f"interface {i} position", xlabels=None if i == 0 else labels[i - 1],
                ylabels=labels[i])
        if decoder is not None:
            output = model.output_interface
            target = batch["text"][b, :int(batch["text_lengths"][b])].tolist()
            cols = int(memory_lengths[b])
            xlabels = labels[-1] if labels and labels[-1] is not None and len(labels[-1]) == cols else None
            what = "encoder state" if model.decoder.ingestor is None else "ingestor state"
            if xlabels is not None:
                what = f"interface {len(outputs) - 1} position"
            ylabels = [plot_marginals._label(output.tokens[t]) for t in target] + ["<eos>"]
            pictures["decoder"] = attention_figure(
                [(f"decoder layer {n + 1}", head_mean(w, b, len(target) + 1, cols))
                 for n, w in enumerate(decoder)],
                f"{utt}, epoch {epoch}: decoder cross-attention, teacher-forced (mean over heads)\n"
                f"reference: {read(target, output.tokens)}",
                what, "predicted token", xlabels=xlabels, ylabels=ylabels)
    return figures


def write_images(model, iterator, out_dir: Path, epoch: int, device: str,
                 summary_writer=None, reporter=None) -> list[Path]:
    """Draws every utterance of `iterator` (ESPnet's plot_att iterator) into out_dir."""
    written = []
    model.eval()
    for ids, batch in iterator:
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        try:
            figures = utterance_figures(model, batch, ids, epoch)
        except Exception:
            # A picture is not worth a training run: say why and carry on with the epoch.
            logging.exception(f"images: could not draw {', '.join(ids)} (epoch {epoch}); skipped")
            continue
        for utt, pictures in figures.items():
            for name, fig in pictures.items():
                path = out_dir / utt / f"{name}.{epoch}ep.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(path, dpi=100)
                written.append(path)
                if summary_writer is not None:
                    summary_writer.add_figure(f"{name}_{utt}", fig, epoch)
        if reporter is not None:
            reporter.next()
    return written
