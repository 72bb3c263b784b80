"""Text normalization shared by the transfer recipes (paper App. A): one implementation, so that
Europarl-ST and TED-LIUM transcripts and WMT19 De-En / WMT16 Ro-En text look alike and modules
trained on one can read the other's vocabulary.

  tokenize()      our own Moses-like tokenizer (sacremoses is not a dependency; sacreBLEU's 13a
                  would leave "it's" whole, unlike the Moses-tokenized Ro-En and TED-LIUM
                  text): symbols split off, commas split except inside numbers, a final
                  period split unless the word is an abbreviation ("U.S.", "Mr.", "e.g."),
                  hyphenated words kept, English clitics split Moses-style ("don't" ->
                  "don 't", "it's" -> "it 's"), other apostrophes split off.
  normalize()     lower-case + tokenize (App. A-A, WMT19 De-En; WMT16 Ro-En and TED-LIUM come
                  tokenized already and are only cleaned and lower-cased)
                  [+ strip punctuation (App. A-B, ASR-style text of Europarl, TED-LIUM and
                  the De-En data of the ASR transfer)].

Also a command line: python -m legonn.recipe.text_norm --lang en [--strip_punct] < in > out
"""
import html
import re
import sys
import unicodedata

# Moses escapes (&apos; ...) appear in some prepared corpora (e.g. Lee et al.'s WMT16 Ro-En).
_MOSES_ESCAPES = {"&bar;": "|", "&#124;": "|", "&lt;": "<", "&gt;": ">", "&bra;": "[",
                  "&ket;": "]", "&#91;": "[", "&#93;": "]", "&quot;": '"', "&apos;": "'",
                  "&amp;": "&"}
_ESCAPE_RE = re.compile("|".join(re.escape(k) for k in _MOSES_ESCAPES))
_SPACES = re.compile(r"\s+")
# Any character that is not a letter/digit/space and not one of . , ' - (Moses' main rule).
_SYMBOL = re.compile(r"([^\w\s.,'\-]|_)")
_COMMA_A = re.compile(r"(\D),")
_COMMA_B = re.compile(r",(\D)")
_DOTS = re.compile(r"\.{2,}")
_L, _NL = r"[^\W\d_]", r"[\W\d_]"  # a letter, a non-letter
_EN_APOSTROPHE = [(re.compile(rf"({_NL})'({_NL})"), r"\1 ' \2"),   # Moses English rules, in order
                  (re.compile(rf"([\W_])'({_L})"), r"\1 ' \2"),
                  (re.compile(rf"({_L})'({_NL})"), r"\1 ' \2"),
                  (re.compile(rf"({_L})'({_L})"), r"\1 '\2"),      # don't -> don 't
                  (re.compile(r"(\d)'(s)"), r"\1 '\2")]           # 1990's -> 1990 's
# A final period stays on these words (a small part of Moses' nonbreaking prefix lists).
_NONBREAKING = set("""Mr Mrs Ms Dr Prof Sr Jr St vs etc Inc Ltd Co Corp No Nos Art Nr Jan Feb
    Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec mr mrs ms dr prof vs etc no art nr bzw ca vgl usw
    Hr Fr Abs Abg Dipl Ing Mio Mrd Str z.B d.h u.a nr dl dna""".split())


def unescape(text: str) -> str:
    """Undo Moses / HTML escaping (&apos; &quot; &amp; ...)."""
    text = _ESCAPE_RE.sub(lambda m: _MOSES_ESCAPES[m.group(0)], text)
    return html.unescape(text) if "&" in text else text


def clean(text: str) -> str:
    """Unicode NFC, escapes undone, invisible format characters (soft hyphens, zero-width
    spaces) dropped, control characters and repeated whitespace made single spaces."""
    text = unicodedata.normalize("NFC", unescape(text))
    text = "".join("" if unicodedata.category(c) == "Cf" else " " if unicodedata.category(c)[0] in "CZ"
                   else c for c in text)
    return _SPACES.sub(" ", text).strip()


def _final_period(tokens):
    """Moses' rule: split a word-final period unless the word is an abbreviation."""
    out = []
    for i, token in enumerate(tokens):
        stem = token[:-1]
        if token.endswith(".") and stem and not stem.endswith("."):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            keep = (("." in stem and re.search(_L, stem)) or stem in _NONBREAKING
                    or (len(stem) == 1 and stem.isupper())
                    or (following[:1].islower() and i + 1 < len(tokens)))
            if not keep:
                out.extend([stem, "."])
                continue
        out.append(token)
    return out


def tokenize(text: str, lang: str = "en") -> str:
    text = " " + clean(text).replace("\u2019", "'").replace("`", "'") + " "
    text = _SYMBOL.sub(r" \1 ", text)
    text = _DOTS.sub(lambda m: f" {m.group(0)} ", text)
    text = _COMMA_A.sub(r"\1 , ", text)
    text = _COMMA_B.sub(r" , \1", text)
    if lang == "en":
        for pattern, replacement in _EN_APOSTROPHE:
            text = pattern.sub(replacement, text)
    else:
        text = text.replace("'", " ' ")
    return " ".join(_final_period(text.split()))


def is_punct(token: str) -> bool:
    return not any(c.isalnum() for c in token)


_INNER_PERIOD = re.compile(r"(?<!\d)\.|\.(?!\d)")


def strip_punct(text: str) -> str:
    """Drops tokens without a letter or digit and periods outside numbers ("u.s." -> "us",
    "3.5" stays); keeps clitics ("'s") and hyphenated words."""
    tokens = (_INNER_PERIOD.sub("", t) for t in text.split() if not is_punct(t))
    return " ".join(t for t in tokens if t)


def normalize(text: str, lang: str = "en", punct: bool = True, pretokenized: bool = False) -> str:
    """Lower-cased, tokenized text; punct=False also strips punctuation (ASR style).
    pretokenized: the text is already Moses-tokenized (Lee et al.'s Ro-En, TED-LIUM): tokenizing
    again would split its clitics a second time ("it 's" -> "it ' s"), so it is only cleaned."""
    text = (clean(text) if pretokenized else tokenize(text, lang)).lower()
    return text if punct else strip_punct(text)


def main(argv):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en")
    parser.add_argument("--strip_punct", action="store_true")
    args = parser.parse_args(argv)
    for line in sys.stdin:
        print(normalize(line, args.lang, punct=not args.strip_punct))


if __name__ == "__main__":
    main(sys.argv[1:])
