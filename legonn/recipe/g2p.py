"""Phone targets for phone interfaces: g2p_en ARPAbet phones (the g2p library of the paper,
App. A-B) with the stress digits stripped, space-separated, without word boundaries or
punctuation (39 phones). One implementation for every recipe, so phone interfaces match.

Writes Kaldi-style `phones` files (same utterance ids as `text`):

  python -m legonn.recipe.g2p data/train/text data/train/phones [more text/phones pairs]
"""
import re
import sys
from pathlib import Path

from legonn.progress import progress
from legonn.utils import write_lines


class Phonemizer:
    """Sentence -> space-separated phones, cached per sentence."""

    PHONE = re.compile(r"^([A-Z]+)[0-2]?$")
    INVENTORY = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S "
                 "SH T TH UH UW V W Y Z ZH").split()

    def __init__(self):
        try:
            from g2p_en import G2p
        except ImportError as error:
            sys.exit(f"g2p: g2p_en is not installed ({error}); run tools/install.sh")
        try:
            self.g2p = G2p()
        except LookupError as error:  # NLTK data missing (cmudict / tagger)
            sys.exit("g2p: NLTK data for g2p_en is missing; source tools/activate.sh (it points "
                     "NLTK_DATA at the shared copy) or set NLTK_DATA to a folder with "
                     f"corpora/cmudict and taggers/averaged_perceptron_tagger_eng ({error})")
        self.cache = {}

    def __call__(self, sentence: str) -> str:
        if sentence not in self.cache:
            # Moses-tokenized clitics are re-attached: g2p_en knows "it's", not "'s".
            words = re.sub(r" '(\w)", r"'\1", sentence)
            phones = (self.PHONE.match(token) for token in self.g2p(words))
            self.cache[sentence] = " ".join(match.group(1) for match in phones if match)
        return self.cache[sentence]


def write_phones(text_path: str, phones_path: str, phonemize: Phonemizer) -> int:
    """Atomically writes `phones_path`; an utterance without phones is an error naming it."""
    lines, empty = [], []
    for raw in progress(Path(text_path).read_text(encoding="utf-8").splitlines(), desc=f"g2p {text_path}"):
        utt, _, sentence = raw.partition(" ")
        phones = phonemize(sentence)
        if not phones:
            empty.append(utt)
        lines.append(f"{utt} {phones}")
    if empty:
        sys.exit(f"g2p: {text_path}: no phones for {len(empty)} utterance(s), e.g. {empty[:3]}; "
                 "drop them in data preparation")
    write_lines(phones_path, lines)
    return len(lines)


def main(argv):
    if not argv or len(argv) % 2:
        sys.exit(__doc__)
    phonemize = Phonemizer()
    for text_path, phones_path in zip(argv[::2], argv[1::2]):
        count = write_phones(text_path, phones_path, phonemize)
        print(f"{phones_path}: {count} utterances ({len(phonemize.cache)} distinct sentences so far)")


if __name__ == "__main__":
    main(sys.argv[1:])
