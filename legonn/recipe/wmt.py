"""Kaldi-style MT data dirs (src_text, text) from WMT files as distributed by statmt.org.

Files are looked up by name anywhere under --root (so the unpacked archives' own folders,
e.g. training/, dev/, test-full/, sgm/, can be kept as they are):

  training corpora   NAME.SRC + NAME.TGT (line-parallel, optionally .gz), e.g.
                     commoncrawl.de-en.de / commoncrawl.de-en.en, or a TSV NAME(.tsv)(.gz)
                     whose columns follow the language pair in its name (europarl-v9.de-en.tsv.gz:
                     German, then English)
  test sets          NAME-[PAIR-]{src,ref}.LANG.sgm (e.g. newstest2012-src.en.sgm,
                     newstest2014-deen-ref.de.sgm; test-full/ preferred), or NAME.L1-L2.xml
                     (WMT21 format), or plain line-parallel NAME.SRC / NAME.TGT

Training pairs are cleaned like Moses' clean-corpus-n.perl: pairs with an empty side, a side
longer than --max_len tokens, or a token-length ratio above --ratio are dropped.

  python -m legonn.recipe.wmt --root DIR --src en --tgt de --train_corpora "A B" \
      --valid newstest2013 --test "newstest2014 newstest2015" --out data [--norm lc_tok]
"""
import argparse
import gzip
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from legonn.recipe import text_norm

SEG = re.compile(r'<seg\b[^>]*?\bid\s*=\s*"?([^">\s]*)"?[^>]*>(.*?)</seg>', re.S | re.I)
DOC = re.compile(r'<doc\b([^>]*)>(.*?)</doc>', re.S | re.I)
DOCID = re.compile(r'\bdocid\s*=\s*"([^"]*)"', re.I)


class MissingFiles(Exception):
    pass


def file_index(root: Path) -> dict:
    index = {}
    for directory, _, names in os.walk(root, followlinks=True):
        for name in names:
            index.setdefault(name, []).append(Path(directory) / name)
    return index


def open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="\n")
    return open(path, encoding="utf-8", errors="replace", newline="\n")


def best(paths):
    # newstest2014 exists filtered (test/) and full (test-full/, what the paper scores).
    return sorted(paths, key=lambda p: ("full" not in str(p), len(str(p))))[0]


def find_corpus(index, name, src, tgt):
    """(kind, paths) of a training corpus, or None."""
    for ext in ("", ".gz"):
        a, b = index.get(f"{name}.{src}{ext}"), index.get(f"{name}.{tgt}{ext}")
        if a and b:
            return "pair", (best(a), best(b))
    for candidate in (name, f"{name}.tsv", f"{name}.gz", f"{name}.tsv.gz"):
        if index.get(candidate) and (".tsv" in candidate or candidate.endswith(".gz")):
            return "tsv", (best(index[candidate]),)
    return None


def read_corpus(kind, paths, name, src, tgt):
    if kind == "pair":
        with open_text(paths[0]) as fa, open_text(paths[1]) as fb:
            for a, b in zip(fa, fb):
                yield a, b
            if fa.readline() or fb.readline():
                raise SystemExit(f"{paths[0]} and {paths[1]} differ in length: the corpus is damaged")
        return
    pairs = re.findall(r"(?<![a-z])([a-z]{2})-([a-z]{2})(?![a-z])", Path(name).name)
    pair = pairs[-1] if pairs else None
    if not pair or {src, tgt} != set(pair):
        raise SystemExit(f"{paths[0]}: cannot tell the column languages from the name; expected "
                         f"'{src}-{tgt}' or '{tgt}-{src}' in it")
    columns = (0, 1) if pair[0] == src else (1, 0)
    with open_text(paths[0]) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 2:
                yield fields[columns[0]], fields[columns[1]]


def sgm_segments(path: Path):
    """{(docid, segid): text} in file order."""
    text = path.read_text(encoding="utf-8", errors="replace")
    out = {}
    for attributes, body in DOC.findall(text):
        docid = DOCID.search(attributes)
        for segid, seg in SEG.findall(body):
            out[(docid.group(1) if docid else "", segid)] = seg
    if not out:  # some files have no <doc> wrapper
        out = {("", segid): seg for segid, seg in SEG.findall(text)}
    return out


def find_sgm(index, name, lang, code):
    pattern = re.compile(rf"^{re.escape(name)}{'-' + code if code else ''}-(src|ref)\.{lang}\.sgm$")
    found = [p for base, paths in index.items() if pattern.match(base) for p in paths]
    return best(found) if found else None


def read_testset(index, name, src, tgt):
    """[(src, tgt)] of a test set in document order, or raise MissingFiles."""
    for code in (f"{src}{tgt}", f"{tgt}{src}", ""):  # both sides from the same direction's files
        a, b = find_sgm(index, name, src, code), find_sgm(index, name, tgt, code)
        if a and b:
            sa, sb = sgm_segments(a), sgm_segments(b)
            if set(sa) != set(sb) or not sa:
                raise SystemExit(f"{a} and {b} do not have the same segments; is one of them damaged?")
            return [(sa[key], sb[key]) for key in sa]
    for pair in (f"{src}-{tgt}", f"{tgt}-{src}"):
        paths = index.get(f"{name}.{pair}.xml")
        if paths:
            return read_xml(best(paths), src, tgt)
    a, b = index.get(f"{name}.{src}"), index.get(f"{name}.{tgt}")
    if a and b:
        return list(read_corpus("pair", (best(a), best(b)), name, src, tgt))
    raise MissingFiles(name)


def read_xml(path: Path, src, tgt):
    pairs = []
    for doc in ET.parse(path).getroot().iter("doc"):
        sides = {}
        for side in list(doc.findall("src")) + list(doc.findall("ref")):
            lang = side.get("lang")
            if lang in (src, tgt) and lang not in sides:
                sides[lang] = {seg.get("id"): "".join(seg.itertext()) for seg in side.iter("seg")}
        if src in sides and tgt in sides:
            pairs += [(sides[src][i], sides[tgt].get(i, "")) for i in sides[src]]
    return pairs


def make_normalizer(norm: str, src: str, tgt: str):
    if norm == "none":
        return lambda a, b: (text_norm.clean(a), text_norm.clean(b))
    if norm == "lc_tok":
        return lambda a, b: (text_norm.normalize(a, src), text_norm.normalize(b, tgt))
    raise SystemExit(f"unknown --norm {norm!r}: none or lc_tok")


def keep_pair(a: str, b: str, max_len: int, ratio: float) -> bool:
    la, lb = len(a.split()), len(b.split())
    return 1 <= la <= max_len and 1 <= lb <= max_len and la <= ratio * lb and lb <= ratio * la


class DataDir:
    """Writes data/<name>/{src_text,text} (ids must come sorted); optionally *_nopunct too."""

    def __init__(self, out: Path, name: str, nopunct: bool):
        self.dirs = [out / name] + ([out / f"{name}_nopunct"] if nopunct else [])
        self.files = []
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
            self.files.append([open(d / f"{n}.tmp", "w", encoding="utf-8") for n in ("src_text", "text")])
        self.count = [0] * len(self.dirs)

    def add(self, utt, pairs):
        for i, (a, b) in enumerate(pairs):
            if a and b:
                self.files[i][0].write(f"{utt} {a}\n")
                self.files[i][1].write(f"{utt} {b}\n")
                self.count[i] += 1

    def close(self):
        for d, files in zip(self.dirs, self.files):
            for f, n in zip(files, ("src_text", "text")):
                f.close()
                os.replace(d / f"{n}.tmp", d / n)
        return self.count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--tgt", required=True)
    parser.add_argument("--train_corpora", required=True, help="space-separated corpus names")
    parser.add_argument("--valid", required=True)
    parser.add_argument("--test", required=True, help="space-separated test set names")
    parser.add_argument("--norm", default="none", help="none (raw text) or lc_tok (lower-cased, tokenized)")
    parser.add_argument("--nopunct", action="store_true",
                        help="also write <set>_nopunct dirs: lc_tok text with punctuation stripped")
    parser.add_argument("--ratio", type=float, default=1.5)
    parser.add_argument("--max_len", type=int, default=250)
    parser.add_argument("--max_train", type=int, default=0, help=">0: stop after this many pairs per corpus")
    parser.add_argument("--out", required=True)
    parser.add_argument("--get_help", default="", help="where to get missing files (for the error)")
    args = parser.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    index = file_index(root)
    corpora = args.train_corpora.split()
    tests = args.test.split()

    found = {name: find_corpus(index, name, args.src, args.tgt) for name in corpora}
    missing = [f"training corpus {n} ({n}.{args.src} + {n}.{args.tgt}, or {n}[.tsv][.gz])"
               for n, f in found.items() if f is None]
    testsets = {}
    for name in [args.valid] + tests:
        try:
            testsets[name] = read_testset(index, name, args.src, args.tgt)
        except MissingFiles:
            missing.append(f"test set {name} ({name}-[PAIR-]{{src,ref}}.{{{args.src},{args.tgt}}}.sgm, "
                           f"{name}.{args.src}-{args.tgt}.xml or {name}.{args.src} + {name}.{args.tgt})")
    if missing:
        sys.exit(f"prepare_wmt.py: not found under {root}:\n  " + "\n  ".join(missing)
                 + (f"\n{args.get_help}" if args.get_help else ""))

    if args.nopunct and args.norm != "lc_tok":
        sys.exit("prepare_wmt.py: --nopunct needs --norm lc_tok")
    normalize = make_normalizer(args.norm, args.src, args.tgt)

    def variants(a, b):
        a, b = normalize(a, b)
        pairs = [(a, b)]
        if args.nopunct:
            pairs.append((text_norm.strip_punct(a), text_norm.strip_punct(b)))
        return pairs

    train = DataDir(out, "train", args.nopunct)
    seen = dropped = 0
    prefixes = {name: re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") + "_" for name in corpora}
    for name in sorted(corpora, key=prefixes.get):  # ids sort by corpus, then line number
        kind, paths = found[name]
        prefix = prefixes[name]
        for number, (a, b) in enumerate(read_corpus(kind, paths, name, args.src, args.tgt)):
            if args.max_train and number >= args.max_train:
                break
            seen += 1
            pairs = variants(a, b)
            kept = [p if keep_pair(*p, args.max_len, args.ratio) else ("", "") for p in pairs]
            dropped += kept[0] == ("", "")
            train.add(f"{prefix}{number:08d}", kept)
    counts = train.close()
    print(f"{out}/train: {counts[0]} of {seen} pairs (dropped {dropped}: empty, longer than "
          f"{args.max_len} tokens or length ratio above {args.ratio})")

    def write_set(dirname, names):
        data = DataDir(out, dirname, args.nopunct)
        for name in names:
            for number, (a, b) in enumerate(testsets[name]):
                data.add(f"{name}_{number:05d}", variants(a, b))
        print(f"{out}/{dirname}: {data.close()[0]} pairs from {' '.join(names)}")

    write_set("valid", [args.valid])
    if len(tests) > 1:  # one dir per test set, and all of them in data/test
        for name in tests:
            write_set(f"test_{name}", [name])
    write_set("test", sorted(tests))


if __name__ == "__main__":
    main()
