"""Corpus BLEU, reported the two ways the LegoNN paper does.

* detokenized: sacreBLEU with its default 13a tokenizer, plus the signature
  that makes the number reproducible (paper Appendix B);
* tokenized: what ``multi-bleu.perl -lc`` gives on pre-tokenized text, i.e.
  no further tokenization, lower-cased, and no smoothing (paper Appendix A).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sacrebleu.metrics import BLEU

from legonn.scoring import paired_texts


@dataclass(frozen=True)
class BleuScore:
    score: float
    precisions: list[float]
    brevity_penalty: float
    hyp_len: int
    ref_len: int
    signature: str


@dataclass(frozen=True)
class BleuReport:
    detokenized: BleuScore
    tokenized: BleuScore
    num_sentences: int

    def summary(self) -> str:
        return (
            f"BLEU {self.detokenized.score:.2f} | tokenized BLEU {self.tokenized.score:.2f} | "
            f"{self.num_sentences} sentences | {self.detokenized.signature}"
        )

    def to_dict(self) -> dict:
        return asdict(self)


def corpus_bleu(
    hyps: dict[str, str], refs: dict[str, str], *, lowercase_tokenized: bool = True
) -> BleuReport:
    """BLEU of ``hyps`` against ``refs`` (both ``{utt_id: text}``, same ids).

    ``lowercase_tokenized=False`` gives the case-sensitive tokenized BLEU the
    paper uses for WMT En-De (Table I); the default follows the lower-cased
    Ro-En and Europarl setups.
    """
    triples = paired_texts(hyps, refs)
    hyp_lines = [hyp for _, hyp, _ in triples]
    ref_lines = [ref for _, _, ref in triples]
    detok = _score(BLEU(), hyp_lines, ref_lines)
    # force: tokenized input is intended here, so silence sacreBLEU's warning about it.
    # smooth none: multi-bleu.perl gives 0 when an n-gram order has no match.
    tok = _score(
        BLEU(tokenize="none", lowercase=lowercase_tokenized, smooth_method="none", force=True),
        hyp_lines,
        ref_lines,
    )
    return BleuReport(detokenized=detok, tokenized=tok, num_sentences=len(triples))


def _score(metric: BLEU, hyp_lines: list[str], ref_lines: list[str]) -> BleuScore:
    result = metric.corpus_score(hyp_lines, [ref_lines])
    return BleuScore(
        score=float(result.score),
        precisions=[float(p) for p in result.precisions],
        brevity_penalty=float(result.bp),
        hyp_len=int(result.sys_len),
        ref_len=int(result.ref_len),
        signature=str(metric.get_signature()),
    )
