"""Corpus code the full-scale recipes share (legonn.recipe.text_norm, asr_data, wmt): the same
text normalization for every transfer recipe, Kaldi-style data dirs, WMT file reading."""
import subprocess
import sys
from pathlib import Path

from legonn.recipe import asr_data, text_norm, wmt


def test_tokenize_like_moses():
    assert text_norm.tokenize("I don't know, Mr. Smith.") == "I don 't know , Mr. Smith ."
    assert text_norm.tokenize("It's 1,000.5 km (U.S.)") == "It 's 1,000.5 km ( U.S. )"
    assert text_norm.tokenize("l'homme", lang="fr") == "l ' homme"


def test_normalize_and_strip_punct():
    assert text_norm.normalize("The U.S. aren't &apos;here&apos;!") == "the u.s. aren 't ' here ' !"
    assert text_norm.normalize("The U.S. aren't here!", punct=False) == "the us aren 't here"
    # Already tokenized text (Lee et al.'s Ro-En, TED-LIUM) is not split a second time.
    assert text_norm.normalize("it 's Fine", pretokenized=True) == "it 's fine"
    assert text_norm.strip_punct("3.5 , u.s. - 's") == "3.5 us 's"


def test_text_norm_command_line():
    out = subprocess.run([sys.executable, "-m", "legonn.recipe.text_norm", "--strip_punct"],
                         input="Hello, World!\n", capture_output=True, text=True, check=True)
    assert out.stdout == "hello world\n"


def test_asr_data_dir(tmp_path: Path):
    rows = [asr_data.Utterance("b", "b.wav", "second", "s2"), asr_data.Utterance("a", "a.wav", "first", "s1"),
            asr_data.Utterance("c", "c.wav", "  ", "s1")]  # empty text: left out
    assert asr_data.write_data_dir(tmp_path, rows, phonemizer=lambda text: text.upper()) == 2
    assert (tmp_path / "text").read_text() == "a first\nb second\n"
    assert (tmp_path / "utt2spk").read_text() == "a s1\nb s2\n"
    assert (tmp_path / "phones").read_text() == "a FIRST\nb SECOND\n"
    assert not list(tmp_path.glob("*.tmp"))
    assert asr_data.time_id(0.985) == "0000099"
    command = asr_data.segment_command("sph2pipe", Path("x y.sph"), 1.5, 3.25, channel=2, upsample="sox")
    assert command == ("sph2pipe -f wav -p -c 2 -t 1.50:3.25 'x y.sph' | sox -R -t wav - -t wav - "
                       "rate 16000 dither |")
    assert asr_data.segment_command("ffmpeg", Path("t.mp3"), 0, 2).startswith("ffmpeg -nostdin")


def test_wmt_files(tmp_path: Path):
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "newstest2013-src.en.sgm").write_text(
        '<srcset><doc docid="d1"><seg id="1">Hello .</seg><seg id="2">Bye</seg></doc></srcset>\n')
    (tmp_path / "dev" / "newstest2013-ref.de.sgm").write_text(
        '<refset><doc docid="d1"><seg id="1">Hallo .</seg><seg id="2">Tschüss</seg></doc></refset>\n')
    index = wmt.file_index(tmp_path)
    pairs = wmt.read_testset(index, "newstest2013", "en", "de")
    assert pairs == [("Hello .", "Hallo ."), ("Bye", "Tschüss")]
    assert wmt.keep_pair("a b", "c d e", max_len=5, ratio=1.5)
    assert not wmt.keep_pair("a", "c d e", max_len=5, ratio=1.5)      # length ratio
    assert not wmt.keep_pair("a b", "", max_len=5, ratio=1.5)          # an empty side
    normalize = wmt.make_normalizer("lc_tok", "en", "de")
    assert normalize("It's OK.", "Das ist OK.") == ("it 's ok .", "das ist ok .")
