"""Kaldi-style data dirs for Switchboard-1 300h + HUB5 Eval2000, following the ESPnet swbd
recipe's data preparation (Kaldi swbd1_data_prep.sh and eval2000_data_prep.sh, then ESPnet's
text clean-up), which the paper follows (IV-A):

  train          Switchboard-1 (LDC97S62) with the ISIP ms98 transcripts; [silence] and aside
                 marks dropped, [laughter-word] -> word, partial words th[ey]- -> th-,
                 [noise] [laughter] [vocalized-noise] dropped, acronyms p._h._d. -> p h d,
                 them_1 -> them; the first --num_valid utterances (sorted by id) are the
                 valid set (ESPnet's train_dev), the rest keep at most --max_dup copies of one
                 transcript (Kaldi's remove_dup_utts.sh 300: ESPnet's train_nodup)
  eval2000       HUB5 Eval2000 (LDC2002S09 speech, LDC2002T43 stm), lower-cased, (%hesitation)
                 and <...> tags and parentheses dropped, IGNORE_TIME_SEGMENT_IN_SCORING skipped;
                 also split into eval2000_swb (sw_* conversations) and eval2000_ch (en_*)

wav.scp: sph2pipe cuts each segment out of its conversation side; 8 kHz audio is upsampled to
16 kHz with sox as ESPnet's swbd recipe does (--sample_rate 8000 keeps it at 8 kHz).
"""
import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from legonn.recipe.asr_data import Utterance, segment_command, time_id, write_data_dir

DROP = {"[silence]", "<b_aside>", "<e_aside>", "[noise]", "[laughter]", "[vocalized-noise]"}


def clean_swbd_word(word: str) -> str:
    word = word.lower()
    if word in DROP:
        return ""
    word = re.sub(r"^\[laughter-(.+)\]$", r"\1", word)           # [laughter-yes] -> yes
    word = re.sub(r"^(.+)\[.+\]-?$", r"\1-", word)                # th[ey]- -> th-
    word = re.sub(r"^-?\[.+\](.+)$", r"-\1", word)                # [th]ey -> -ey
    word = re.sub(r"^\{(.+)\}$", r"\1", word)                     # {yuppie} -> yuppie
    word = re.sub(r"_1$", "", word)                               # them_1 -> them
    word = word.replace("._", " ").replace(".", "")               # p._h._d. -> p h d
    return word.strip()


def clean_swbd(words) -> str:
    return " ".join(w for w in map(clean_swbd_word, words) if w)


def clean_eval2000(words) -> str:
    kept = []
    for word in words:
        word = word.lower()
        if re.fullmatch(r"\(%.*\)|<.*>", word):                   # (%hesitation), <b_aside>
            continue
        word = word.replace("(", "").replace(")", "")             # (i-) -> i-
        if word and word != "-":
            kept.append(word)
    return " ".join(kept)


def find_files(root: Path, pattern: str):
    return sorted(p for p in root.rglob(pattern) if p.is_file())


def swbd_utterances(sph_files, transcript_files, sph2pipe, upsample):
    audio = {p.stem.lower(): p for p in sph_files}  # sw02001
    for path in transcript_files:  # sw2001A-ms98-a-trans.text
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split()
            if len(fields) < 4:
                continue
            name, side = fields[0][:6].replace("sw", "sw0", 1), fields[0][6]
            if name not in audio:
                continue
            start, end = float(fields[1]), float(fields[2])
            speaker = f"{name}-{side}"
            yield Utterance(f"{speaker}_{time_id(start, 6)}-{time_id(end, 6)}",
                            segment_command(sph2pipe, audio[name].resolve(), start, end,
                                            1 if side == "A" else 2, upsample),
                            clean_swbd(fields[3:]), speaker)


def eval2000_utterances(stm: Path, sph_files, sph2pipe, upsample):
    audio = {p.stem: p for p in sph_files}  # en_4156, sw_4390
    for line in stm.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) < 6 or line.startswith(";;") or fields[0] not in audio:
            continue
        if "IGNORE_TIME_SEGMENT_IN_SCORING" in fields:
            continue
        name, side, start, end = fields[0], fields[1], float(fields[3]), float(fields[4])
        words = fields[6:] if fields[5].startswith("<") else fields[5:]
        speaker = f"{name}-{side}"
        yield Utterance(f"{speaker}_{time_id(start, 6)}-{time_id(end, 6)}",
                        segment_command(sph2pipe, audio[name].resolve(), start, end,
                                        1 if side == "A" else 2, upsample),
                        clean_eval2000(words), speaker)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swbd", required=True, help="LDC97S62 folder (swb1_d*/data/*.sph)")
    parser.add_argument("--transcripts", required=True, help="swb_ms98_transcriptions folder")
    parser.add_argument("--eval2000_speech", required=True, help="LDC2002S09 hub5e_00 folder")
    parser.add_argument("--eval2000_transcripts", required=True, help="LDC2002T43 folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--sph2pipe", default="sph2pipe")
    parser.add_argument("--sox", default="sox")
    parser.add_argument("--sample_rate", type=int, default=16000, choices=[8000, 16000])
    parser.add_argument("--num_valid", type=int, default=4000)
    parser.add_argument("--max_dup", type=int, default=300)
    args = parser.parse_args(argv)
    out = Path(args.out)
    upsample = args.sox if args.sample_rate == 16000 else None

    missing = []
    sph = find_files(Path(args.swbd), "*.sph")
    transcripts = find_files(Path(args.transcripts), "*-trans.text")
    eval_sph = find_files(Path(args.eval2000_speech), "*.sph")
    stm = find_files(Path(args.eval2000_transcripts), "hub5e00.english.000405.stm")
    for what, found, where in ((".sph files", sph, args.swbd), ("*-trans.text files", transcripts, args.transcripts),
                               (".sph files", eval_sph, args.eval2000_speech),
                               ("hub5e00.english.000405.stm", stm, args.eval2000_transcripts)):
        if not found:
            missing.append(f"no {what} under '{where}'")
    if missing:
        sys.exit("prepare_swbd.py: " + "; ".join(missing))

    train = write_data_dir(out / "train_all", swbd_utterances(sph, transcripts, args.sph2pipe, upsample))
    print(f"{out}/train_all: {train} utterances")
    rows = [line.split(" ", 1) for line in (out / "train_all" / "text").read_text(encoding="utf-8").splitlines()]
    valid_ids = {utt for utt, _ in rows[:args.num_valid]}
    counts, nodup = Counter(), set()
    for utt, text in rows[args.num_valid:]:
        counts[text] += 1
        if counts[text] <= args.max_dup:
            nodup.add(utt)
    for name, keep in (("valid", valid_ids), ("train", nodup)):
        subset(out / "train_all", out / name, keep)
        print(f"{out}/{name}: {len(keep)} utterances")

    evaluation = list(eval2000_utterances(stm[0], eval_sph, args.sph2pipe, upsample))
    for name, prefix in (("eval2000", ""), ("eval2000_swb", "sw_"), ("eval2000_ch", "en_")):
        count = write_data_dir(out / name, (u for u in evaluation if u.utt_id.startswith(prefix)))
        print(f"{out}/{name}: {count} utterances")


def subset(source: Path, target: Path, keep: set):
    target.mkdir(parents=True, exist_ok=True)
    for name in ("wav.scp", "text", "utt2spk"):
        lines = (source / name).read_text(encoding="utf-8").splitlines()
        (target / name).write_text("".join(line + "\n" for line in lines if line.split(" ", 1)[0] in keep),
                                   encoding="utf-8")


if __name__ == "__main__":
    main()
