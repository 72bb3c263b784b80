"""Heatmap of one utterance's interface marginals (paper Appendix D).

    python -m legonn.bin.plot_marginals --marginals exp/x/marginals/interface0.scp \
        --tokens data/token_list/tokens.txt --utt UTT_ID --out fig.png \
        [--top 30] [--alignment ALIGN_FILE]

Marginals are K x V log-probabilities (Kaldi scp/ark); row ``i`` of the plot
is a token, column ``t`` an output position.  Markers show the greedy CTC path
(argmax per position); ``--alignment`` spans (``utt_id tok_id start end``
per line, ``end`` exclusive) are drawn as rectangles.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import kaldiio
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from legonn.utils import collapse_ctc, first_few

PROG = "python -m legonn.bin.plot_marginals"
BLANK = 0
SP_SPACE = "\u2581"  # SentencePiece's word-boundary mark


class UnknownUttError(LookupError):
    """The requested utterance is not in the marginals (or alignment) file."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--marginals", required=True, help="scp of K x V log-probability matrices")
    parser.add_argument("--tokens", required=True, help="one token per line; line i is token id i, 0 is <blank>")
    parser.add_argument("--utt", required=True, help="utterance id to plot")
    parser.add_argument("--out", required=True, help="output image (png)")
    parser.add_argument("--top", type=int, default=30, help="non-blank tokens to show (default: 30)")
    parser.add_argument("--alignment", help="text file of 'utt_id tok_id start end' token spans")
    return parser


def read_tokens(path: str | Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f]


def load_marginals(scp: str | Path, utt: str) -> np.ndarray:
    table = kaldiio.load_scp(str(scp))
    if utt not in table:
        ids = list(table.keys())
        raise UnknownUttError(f"utterance {utt!r} is not in {scp} ({len(ids)} utterances, e.g. {first_few(ids)})")
    try:
        log_probs = np.asarray(table[utt], dtype=np.float64)
    except OSError as err:
        # Kaldi resolves ark paths in an scp against the working directory, a common surprise.
        raise OSError(f"{scp}: cannot read {utt} ({err}); relative ark paths are read from {Path.cwd()}") from None
    if log_probs.ndim != 2:
        raise ValueError(f"{scp}: {utt} is not a K x V matrix (shape {log_probs.shape})")
    # Plain probabilities would be plotted as exp(p) and look plausible; refuse instead.
    if log_probs.max() > 1e-3:
        raise ValueError(f"{scp}: {utt} has positive values; expected log-probabilities")
    return log_probs


def read_spans(path: str | Path, utt: str, vocab_size: int) -> list[tuple[int, int, int]]:
    """``(tok_id, start, end)`` spans of ``utt`` from an alignment file."""
    spans = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields or fields[0] != utt:
                continue
            try:
                tok, start, end = (int(x) for x in fields[1:])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: expected 'utt_id tok_id start end', got {line.strip()!r}") from None
            if not (0 <= tok < vocab_size and 0 <= start <= end):
                raise ValueError(f"{path}:{lineno}: token id or span out of range: {line.strip()!r}")
            spans.append((tok, start, end))
    if not spans:
        raise UnknownUttError(f"alignment file {path} has no spans for utterance {utt!r}")
    return spans


def detokenize(pieces: list[str]) -> str:
    """SentencePiece pieces read as words; other units (phones, chars) spaced."""
    if any(p.startswith(SP_SPACE) for p in pieces):
        return "".join(pieces).replace(SP_SPACE, " ").strip()
    return " ".join(pieces)


def choose_rows(probs: np.ndarray, must_show: set[int], top: int) -> list[int]:
    """Blank first, then ``top`` tokens ordered by where they peak, so a good
    CTC path reads as a diagonal.  Tokens in ``must_show`` (greedy path,
    alignment) take precedence over merely high-peaking ones, so markers have
    rows to sit on; ``top`` still bounds the rows for messy (untrained) models."""
    peak = probs.max(axis=0)
    ranked = [int(t) for t in np.argsort(-peak, kind="stable") if t != BLANK]
    ranked.sort(key=lambda t: t not in must_show)  # stable: keeps peak order within each group
    chosen = ranked[:top]
    return [BLANK] + sorted(chosen, key=lambda t: (int(probs[:, t].argmax()), t))


def _label(text: str) -> str:
    # A '$' would switch matplotlib into math mode and garble or break the text.
    return text.replace("$", r"\$")


def plot(
    log_probs: np.ndarray,
    tokens: list[str],
    utt: str,
    out: str | Path,
    top: int = 30,
    spans: list[tuple[int, int, int]] | None = None,
) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure(log_probs, tokens, utt, top, spans).savefig(out, dpi=100)
    return out


def figure(
    log_probs: np.ndarray,
    tokens: list[str],
    utt: str,
    top: int = 30,
    spans: list[tuple[int, int, int]] | None = None,
    reference: str | None = None,
) -> Figure:
    """The heatmap; with ``reference`` the title shows it under the greedy reading."""
    probs = np.exp(log_probs)
    argmax = probs.argmax(axis=1)
    rows = choose_rows(probs, set(argmax.tolist()) | {s[0] for s in spans or []}, top)
    row_of = {tok: r for r, tok in enumerate(rows)}
    num_frames = probs.shape[0]

    fig = Figure(figsize=(min(max(6.0, 0.18 * num_frames + 2.5), 40.0), max(3.0, 0.28 * len(rows) + 1.6)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(
        probs[:, rows].T, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest"
    )
    fig.colorbar(image, ax=ax, label="probability", pad=0.01)
    on_chart = [t for t, tok in enumerate(argmax) if int(tok) in row_of]
    ax.scatter(
        on_chart, [row_of[int(argmax[t])] for t in on_chart], marker="o", s=18,
        facecolors="none", edgecolors="red", linewidths=1.0,
    )
    for tok, start, end in (s for s in spans or [] if s[0] in row_of):
        ax.add_patch(Rectangle(
            (start - 0.5, row_of[tok] - 0.5), max(end - start, 0.1), 1.0,
            fill=False, edgecolor="white", linewidth=1.5, linestyle="--",
        ))
    ax.set_yticks(range(len(rows)), [_label(tokens[t]) for t in rows], fontsize=8)
    # Explained in the label rather than a legend, which would hide the blank row.
    key = "red circles: greedy CTC path" + ("; dashed boxes: alignment" if spans else "")
    if len(on_chart) < num_frames:
        key += f"; {num_frames - len(on_chart)} path positions beyond --top"
    ax.set_xlabel(f"output position   ({key})")
    ax.set_ylabel("token")
    decoded = detokenize([tokens[t] for t in collapse_ctc(argmax.tolist(), BLANK)])
    lines = [("", decoded)] if reference is None else [("greedy: ", decoded), ("reference: ", reference)]
    title = [utt]
    for prefix, text in lines:
        wrapped = textwrap.shorten(text, width=300, placeholder=" ...") or "(empty)"
        title += textwrap.wrap(prefix + wrapped, width=110)
    ax.set_title(_label("\n".join(title)), fontsize=9)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> Path:
    args = build_parser().parse_args(argv)
    if args.top < 1:
        raise ValueError(f"--top must be at least 1, got {args.top}")
    tokens = read_tokens(args.tokens)
    log_probs = load_marginals(args.marginals, args.utt)
    if log_probs.shape[1] != len(tokens):
        raise ValueError(
            f"{args.marginals}: {args.utt} has {log_probs.shape[1]} columns but {args.tokens} "
            f"lists {len(tokens)} tokens"
        )
    spans = read_spans(args.alignment, args.utt, len(tokens)) if args.alignment else None
    return plot(log_probs, tokens, args.utt, args.out, top=args.top, spans=spans)


if __name__ == "__main__":
    try:
        print(main())
    except (OSError, ValueError, LookupError) as err:
        sys.exit(f"{PROG}: error: {err}")
