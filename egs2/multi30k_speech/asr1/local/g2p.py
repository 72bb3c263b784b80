"""Writes a Kaldi-style `phones` file (same utterance ids as `text`): g2p_en ARPAbet phones
(the g2p library of the paper, App. A-B) with the stress digits stripped, space-separated,
without word boundaries or punctuation (39 phones).

  python local/g2p.py data/train/text data/train/phones [more text/phones pairs]
"""
import re
import sys
from pathlib import Path

PHONE = re.compile(r"^([A-Z]+)[0-2]?$")


def main(argv):
    if not argv or len(argv) % 2:
        sys.exit(__doc__)
    import legonn  # noqa: F401  (sets NLTK_DATA to the shared copy before g2p_en loads it)

    try:
        from g2p_en import G2p
    except ImportError as error:
        sys.exit(f"local/g2p.py: g2p_en is not installed ({error}); run tools/install.sh")
    try:
        g2p = G2p()
    except LookupError as error:  # NLTK data missing (cmudict / tagger)
        sys.exit(f"local/g2p.py: NLTK data for g2p_en is missing; set NLTK_DATA to a folder with "
                 f"corpora/cmudict and taggers/averaged_perceptron_tagger_eng ({error})")
    cache = {}
    for text_path, phones_path in zip(argv[::2], argv[1::2]):
        lines, empty = [], []
        for raw in Path(text_path).read_text(encoding="utf-8").splitlines():
            utt, _, sentence = raw.partition(" ")
            if sentence not in cache:
                phones = (PHONE.match(token) for token in g2p(sentence))
                cache[sentence] = " ".join(match.group(1) for match in phones if match)
            if not cache[sentence]:
                empty.append(utt)
            lines.append(f"{utt} {cache[sentence]}")
        if empty:
            sys.exit(f"local/g2p.py: {text_path}: no phones for {len(empty)} utterance(s), "
                     f"e.g. {empty[:3]}; drop them in data preparation")
        tmp = Path(phones_path + ".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        tmp.replace(phones_path)
        print(f"{phones_path}: {len(lines)} utterances ({len(cache)} distinct sentences so far)")


if __name__ == "__main__":
    main(sys.argv[1:])
