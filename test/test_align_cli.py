"""Specification of ``legonn.bin.align``: reference tokens force-aligned to interface marginals."""
import math

import kaldiio
import numpy as np
import pytest
import torch

from legonn.bin import align, plot_marginals
from legonn.nets.interface import Interface
from legonn.tasks.asr import ASRTask
from legonn.tasks.mt import MTTask
from legonn.tokenizer import Tokenizer
from test.test_model import save_trained
from test.toy import model_args, write_split


def read_table(path):
    """utt -> list of remaining fields per line, in file order."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, *fields = line.split()
        table.setdefault(key, []).append(fields)
    return table


def read_references(path, tokenizer):
    refs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, text = line.split(maxsplit=1)
        refs[key] = tokenizer.encode(text)
    return refs


def mt_experiment(tmp_path, ratio=2.0, data=None):
    args = model_args(tmp_path)
    args.encoder_conf["olc"]["ratio"] = ratio
    model = MTTask.build_model(args)
    config, weights = save_trained(model, args, tmp_path / "exp")
    data_dir = tmp_path / "data"
    if data is None:
        write_split(data_dir, 9, seed=3)
    else:
        data_dir.mkdir()
        (data_dir / "src_text").write_text("".join(f"{k} {s}\n" for k, s, _ in data))
        (data_dir / "text").write_text("".join(f"{k} {t}\n" for k, _, t in data))
    argv = ["--task", "mt", "--train_config", str(config), "--model_file", str(weights),
            "--data_path_and_name_and_type", f"{data_dir / 'src_text'},src_text,text",
            "--data_path_and_name_and_type", f"{data_dir / 'text'},text,text",
            "--interface", "0", "--batch_size", "4", "--num_workers", "0"]
    return argv, args, data_dir


def test_alignment_spells_each_reference_in_order_and_feeds_plot_marginals(tmp_path, capsys):
    argv, args, data_dir = mt_experiment(tmp_path)
    out = align.main(argv + ["--output_dir", str(tmp_path / "align"), "--write_marginals", "true"])
    interface = Interface.load(args.interfaces[0])
    refs = read_references(data_dir / "text", Tokenizer(interface))
    spans = read_table(out / "alignment")
    scores = read_table(out / "scores")
    marginals = kaldiio.load_scp(str(out / "marginals.scp"))
    assert set(spans) == set(scores) == set(marginals) == set(refs)
    assert (out / "infeasible").read_text() == ""
    for key, ref in refs.items():
        log_probs = marginals[key]
        rows = [tuple(int(x) for x in fields) for fields in spans[key]]
        assert [tok for tok, _, _ in rows] == ref
        previous_end = 0
        labels = np.zeros(len(log_probs), dtype=int)  # blank outside the spans
        for tok, start, end in rows:
            assert previous_end <= start < end <= len(log_probs)
            labels[start:end] = tok
            previous_end = end
        score = float(scores[key][0][0])
        assert math.isfinite(score)
        # The score is the log-probability of exactly the path the spans describe.
        assert score == pytest.approx(log_probs[np.arange(len(labels)), labels].sum(), abs=1e-3)
    # MT: token_times gives positions (start, duration) with the token strings.
    times = read_table(out / "token_times")
    key = next(iter(refs))
    assert times[key] == [[interface.tokens[t], str(s), str(e - s)]
                          for t, s, e in (map(int, f) for f in spans[key])]
    assert "aligned 9, infeasible 0" in capsys.readouterr().out

    png = tmp_path / "fig.png"
    plot_marginals.main(["--marginals", str(out / "marginals.scp"), "--alignment",
                         str(out / "alignment"), "--tokens", str(tmp_path / "tgt" / "tokens.txt"),
                         "--utt", key, "--out", str(png)])
    assert png.read_bytes().startswith(b"\x89PNG")


def test_references_too_long_for_the_interface_are_listed_not_fatal(tmp_path, capsys):
    # OLC ratio 1: K = source length, so a repeated target word needs one position more.
    data = [("a", "s1 s2 s3", "t1 t2 t3"), ("b", "s4 s4", "t4 t4"), ("c", "s5 s6 s5 s5", "t5 t6 t5 t5")]
    argv, _, _ = mt_experiment(tmp_path, ratio=1.0, data=data)
    out = align.main(argv + ["--output_dir", str(tmp_path / "align")])
    assert (out / "infeasible").read_text().splitlines() == [
        "b target needs 3 positions, interface has 2", "c target needs 5 positions, interface has 4"]
    assert set(read_table(out / "alignment")) == set(read_table(out / "scores")) == {"a"}
    assert not (out / "marginals.scp").exists()
    assert "aligned 1, infeasible 2" in capsys.readouterr().out


def test_utterances_with_non_finite_marginals_are_listed_not_aligned(tmp_path, capsys):
    # A NaN in one source word's embedding: only the utterance using that word is affected.
    data = [("a", "s1 s2 s3", "t1 t2 t3"), ("b", "s4 s7", "t4 t7"), ("c", "s5 s6", "t5 t6")]
    argv, args, _ = mt_experiment(tmp_path, data=data)
    weights = argv[argv.index("--model_file") + 1]
    state = torch.load(weights)
    src = Interface.load(args.input_interface)
    state["encoders.0.frontend.embed.weight"][src.tokens.index("s7")] = float("nan")
    torch.save(state, weights)
    out = align.main(argv + ["--output_dir", str(tmp_path / "align")])
    (line,) = (out / "infeasible").read_text().splitlines()
    assert line.startswith("b marginals are not finite (NaN or +inf) from output position 0; not aligned")
    assert set(read_table(out / "alignment")) == set(read_table(out / "scores")) == {"a", "c"}
    assert "aligned 2, infeasible 0, not finite 1 (NaN/+inf marginals" in capsys.readouterr().out


def test_missing_reference_names_the_data_key_to_pass(tmp_path):
    argv, _, data_dir = mt_experiment(tmp_path)
    with pytest.raises(ValueError, match=r"data key 'text'.*PATH,text,text"):
        reference = argv.index(f"{data_dir / 'text'},text,text")
        del argv[reference - 1:reference + 1]
        align.main(argv + ["--output_dir", str(tmp_path / "align")])


def test_speech_token_times_are_seconds_after_subsampling_and_olc(tmp_path):
    args = model_args(tmp_path, input_size=8, normalize_stats=None, specaug_conf=None)
    del args.input_interface, args.input_marginals
    args.encoder_conf.update(conv_channels=[2, 2])  # 40 frames -> 10 -> OLC 1.5 -> 15 positions
    args.encoder_conf["olc"]["ratio"] = 1.5
    config, weights = save_trained(ASRTask.build_model(args), args, tmp_path / "exp")
    rng = np.random.default_rng(0)
    feats = {"u1": rng.standard_normal((40, 8)).astype(np.float32),
             "u2": rng.standard_normal((24, 8)).astype(np.float32)}  # -> 6 -> 9 positions
    with kaldiio.WriteHelper(f"ark,scp:{tmp_path / 'feats.ark'},{tmp_path / 'feats.scp'}") as w:
        for key, matrix in feats.items():
            w(key, matrix)
    (tmp_path / "text").write_text("u1 t1 t2 t3\nu2 t4 t4\n")
    out = align.main(["--task", "asr", "--train_config", str(config), "--model_file", str(weights),
                      "--data_path_and_name_and_type", f"{tmp_path / 'feats.scp'},speech,kaldi_ark",
                      "--data_path_and_name_and_type", f"{tmp_path / 'text'},text,text",
                      "--output_dir", str(tmp_path / "align"), "--num_workers", "0"])
    spans, times = read_table(out / "alignment"), read_table(out / "token_times")
    for key, frames, positions in (("u1", 40, 15), ("u2", 24, 9)):
        step = 0.010 * frames / positions
        assert len(times[key]) == len(spans[key])
        for (tok, start, end), (token, start_s, duration_s) in zip(spans[key], times[key]):
            assert token == f"t{int(tok) - 2}"  # ids 0, 1: <blank>, <unk>
            assert float(start_s) == pytest.approx(int(start) * step, abs=1e-3)
            assert float(duration_s) == pytest.approx((int(end) - int(start)) * step, abs=1e-3)
        assert int(spans[key][-1][2]) <= positions
