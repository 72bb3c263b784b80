"""Build a module interface (vocabulary) from Kaldi-style text files (`utt_id text` lines).

  python -m legonn.bin.make_interface --kind bpe --vocab_size 1000 --name en_bpe1000 \
      --text data/train_de_en/text [more text files for a joint vocabulary] --output_dir DIR
"""
import argparse
import io
import sys
from collections import Counter
from pathlib import Path

from legonn.nets.interface import BLANK, KINDS, SOS_EOS, UNK, Interface
from legonn.utils import first_few, read_kaldi_lines

# sentencepiece silently leaves out longer sentences (its max_sentence_length, in bytes).
MAX_SENTENCE_BYTES = 4192


def bpe_interface(name: str, sentences: list[str], vocab_size: int, model_type: str) -> Interface:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=vocab_size,
        model_type=model_type, character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0,
        max_sentence_length=MAX_SENTENCE_BYTES,
        hard_vocab_limit=False, minloglevel=2)
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return Interface(name, "bpe", [BLANK, UNK] + pieces[1:] + [SOS_EOS], model.getvalue())


def counted_interface(name: str, kind: str, sentences: list[str]) -> Interface:
    counts = Counter()
    for sentence in sentences:
        counts.update(sentence.strip() if kind == "char" else sentence.split())
    if kind == "char":
        counts["<space>"] = counts.pop(" ", 0)
    tokens = [token for token, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Interface(name, kind, [BLANK, UNK] + tokens + [SOS_EOS])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--text", nargs="+", required=True, help="Kaldi-style text files")
    parser.add_argument("--vocab_size", type=int, default=1000, help="bpe only")
    parser.add_argument("--bpe_model_type", default="unigram", choices=["unigram", "bpe"])
    parser.add_argument("--output_dir", "--out_dir", dest="output_dir", required=True)
    args = parser.parse_args(argv)
    sentences, too_long = [], []
    for path in args.text:
        if not Path(path).exists():
            sys.exit(f"make_interface: text file {path} does not exist")
        try:
            lines = list(read_kaldi_lines(path))
        except ValueError as error:
            sys.exit(f"make_interface: {error}")
        for _, utt_id, text in lines:
            if args.kind == "bpe" and len(text.encode("utf-8")) > MAX_SENTENCE_BYTES:
                too_long.append(f"{path}:{utt_id}")
            else:
                sentences.append(text)
    if too_long:
        print(f"make_interface: skipped {len(too_long)} transcript(s) longer than {MAX_SENTENCE_BYTES} bytes "
              f"(sentencepiece cannot train on them; drop them with `python -m legonn.recipe.data_dir "
              f"filter`): {first_few(too_long)}", file=sys.stderr)
    if not any(sentence.strip() for sentence in sentences):
        sys.exit(f"make_interface: no text to build the {args.kind} vocabulary from in {' '.join(args.text)} "
                 f"({len(sentences) + len(too_long)} transcript(s), all empty or skipped); "
                 "check the data preparation stage")
    if args.kind == "bpe":
        interface = bpe_interface(args.name, sentences, args.vocab_size, args.bpe_model_type)
    else:
        interface = counted_interface(args.name, args.kind, sentences)
    path = interface.save(args.output_dir)
    print(f"wrote {path}: {interface.describe()}")


if __name__ == "__main__":
    main()
