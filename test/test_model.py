"""Specifications of the LegoNN model (eq. 9), its baselines, and modules as artifacts."""
import contextlib
import io
import tempfile
from pathlib import Path

import pytest
import torch
import yaml

from legonn.modules import compose, read_module, split_model, write_module
from legonn.nets.interface import BLANK, SOS_EOS, UNK, Interface, InterfaceMismatch
from legonn.tasks.mt import MTTask
from test.toy import model_args


def batch(src, tgt):
    pad = lambda rows: torch.nn.utils.rnn.pad_sequence([torch.tensor(r) for r in rows], True, -1)
    lengths = lambda rows: torch.tensor([len(r) for r in rows])
    return {"src_text": pad(src), "src_text_lengths": lengths(src), "text": pad(tgt),
            "text_lengths": lengths(tgt), "ctc0": pad(tgt), "ctc0_lengths": lengths(tgt)}


EXAMPLE = batch([[2, 3, 4], [5, 6]], [[2, 3, 4], [7, 8]])


def save_trained(model, args, directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yaml").write_text(yaml.safe_dump(vars(args)))
    torch.save(model.state_dict(), directory / "model.pth")
    return directory / "config.yaml", directory / "model.pth"


def test_loss_is_ce_plus_ctc_at_the_interface(tmp_path):
    model = MTTask.build_model(model_args(tmp_path)).eval()
    loss, stats, weight = model(**EXAMPLE)
    torch.testing.assert_close(loss, stats["loss_ce"] + stats["loss_ctc0"])
    assert weight == 2 and torch.isfinite(loss)


def test_ctc_weight_scales_the_interface_loss(tmp_path):
    model = MTTask.build_model(model_args(tmp_path, model_conf={"ctc_weights": [0.3]})).eval()
    loss, stats, _ = model(**EXAMPLE)
    torch.testing.assert_close(loss, stats["loss_ce"] + 0.3 * stats["loss_ctc0"])


def test_targets_too_long_for_the_interface_are_counted_and_masked_not_nan(tmp_path):
    args = model_args(tmp_path)
    args.encoder_conf["olc"] = {"ratio": 0.5, "max_len": 40, "layers": 1}  # K = 2 for 3 tokens
    model = MTTask.build_model(args).eval()
    example = batch([[2, 3, 4], [5, 6, 7]], [[2, 3, 4, 5], [7]])
    loss, stats, _ = model(**example)
    assert torch.isfinite(loss)
    assert stats["ctc0_infeasible"] == 1


def test_baselines_come_from_the_same_code(tmp_path):
    encdec = MTTask.build_model(model_args(tmp_path, grounded=False)).eval()
    loss, stats, _ = encdec(**EXAMPLE)
    assert "loss_ctc0" not in stats and encdec.decoder.ingestor is None
    ctc_only = MTTask.build_model(model_args(tmp_path, decoder="none")).eval()
    loss, stats, _ = ctc_only(**EXAMPLE)
    assert "loss_ce" not in stats and ctc_only.decoder is None


def test_three_module_chain_has_a_ctc_loss_at_every_interface(tmp_path):
    args = model_args(tmp_path)
    mid = Interface("mid", "word", [BLANK, UNK] + [f"m{i}" for i in range(9)] + [SOS_EOS])
    args.interfaces = [str(mid.save(tmp_path / "mid")), args.interfaces[0]]
    args.ctc_targets = ["mid", "text"]
    args.middle_modules = [{"ingestor": "wemb", "ingestor_conf": {"rf": 3, "layers": 1, "heads": 2, "ffn_dim": 64},
                            "encoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1,
                                             "olc": {"ratio": 1.0, "max_len": 40, "layers": 1}}}]
    model = MTTask.build_model(args).eval()
    example = dict(EXAMPLE, ctc1=EXAMPLE["ctc0"], ctc1_lengths=EXAMPLE["ctc0_lengths"])
    loss, stats, _ = model(**example)
    torch.testing.assert_close(loss, stats["loss_ce"] + stats["loss_ctc0"] + stats["loss_ctc1"])


def test_state_dict_round_trip_gives_identical_outputs(tmp_path):
    args = model_args(tmp_path)
    model = MTTask.build_model(args).eval()
    config, weights = save_trained(model, args, tmp_path / "exp")
    loaded, _ = MTTask.build_model_from_file(config, weights, "cpu")
    torch.testing.assert_close(loaded.eval()(**EXAMPLE)[0], model(**EXAMPLE)[0])


def test_exported_modules_compose_into_the_same_model(tmp_path):
    args = model_args(tmp_path)
    model = MTTask.build_model(args).eval()
    config, weights = save_trained(model, args, tmp_path / "exp")
    archives = [write_module(m, tmp_path / f"{m.name}.zip") for m in split_model(config, weights)]
    modules = [read_module(a, tmp_path / "unpacked") for a in archives]
    composed = compose(modules, tmp_path / "interfaces")
    rebuilt = MTTask.build_model(model_args(tmp_path, **composed.config)).eval()
    rebuilt.load_state_dict(composed.state)
    torch.testing.assert_close(rebuilt(**EXAMPLE)[0], model(**EXAMPLE)[0])


def test_connecting_different_vocabularies_is_refused_naming_both(tmp_path):
    args = model_args(tmp_path)
    model = MTTask.build_model(args)
    encoder = split_model(*save_trained(model, args, tmp_path / "a"))[0]
    other_args = model_args(tmp_path / "b")
    other = Interface("other_en", "word", [BLANK, UNK, "x", "y", SOS_EOS])
    other_args.interfaces = [str(other.save(tmp_path / "other"))]
    decoder_model = MTTask.build_model(other_args)
    decoder = split_model(*save_trained(decoder_model, other_args, tmp_path / "b" / "exp"))[-1]
    with pytest.raises(InterfaceMismatch, match="'tgt'.*'other_en'"):
        compose([encoder, decoder], tmp_path / "interfaces")


def test_a_middle_module_trained_from_text_plugs_between_encoder_and_decoder(tmp_path):
    args = model_args(tmp_path)
    base = MTTask.build_model(args)
    encoder, decoder = split_model(*save_trained(base, args, tmp_path / "base"))
    # Pronunciation-model stand-in: reads marginals over the encoder's interface ('tgt').
    text_args = model_args(tmp_path, input_interface=args.interfaces[0], input_marginals={
        "ingestor": "wemb", "ingestor_conf": {"rf": 3, "layers": 1, "heads": 2, "ffn_dim": 64},
        "encoder_conf": {"dim": 32, "heads": 2, "ffn_dim": 64, "layers": 1}, "confusion": 0.1,
        "stretch": [1.5, 2.0]})
    text_model = MTTask.build_model(text_args)
    (middle, _) = split_model(*save_trained(text_model, text_args, tmp_path / "text"))
    assert middle.role == "middle"
    assert "stretch" not in middle.conf and "confusion" not in middle.conf  # training only
    composed = compose([encoder, middle, decoder], tmp_path / "interfaces")
    chain = MTTask.build_model(model_args(tmp_path, **composed.config)).eval()
    chain.load_state_dict(composed.state)
    assert len(chain.encoders) == 2 and torch.isfinite(chain(**dict(
        EXAMPLE, ctc1=EXAMPLE["ctc0"], ctc1_lengths=EXAMPLE["ctc0_lengths"]))[0])


def test_corrupt_module_archive_gives_a_clear_error(tmp_path):
    bad = tmp_path / "encoder0.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="encoder0.zip: not a readable legonn module archive"):
        read_module(bad, tmp_path / "unpacked")


def write_archive_in_the_old_dict_format(module, archive):
    """How legonn wrote module archives before ModuleSpec: module.yaml is the module dict minus
    weights and interfaces (no spec_version), interfaces saved beside it with their checksums."""
    from espnet2.main_funcs.pack_funcs import pack

    with tempfile.TemporaryDirectory() as stage, contextlib.chdir(stage):
        meta = {"role": module.role, "name": module.name, "task": module.task,
                "encoder_conf": module.encoder_conf, "ctc_target": module.ctc_target,
                "conf": module.conf, "ingestor": module.ingestor, "ingestor_conf": module.ingestor_conf,
                "decoder_conf": module.decoder_conf, "source": ""}
        meta = {k: v for k, v in meta.items() if v is not None or k == "ingestor"}
        for key in ("input_interface", "output_interface"):
            interface = getattr(module, key)
            meta[key] = {"path": str(interface.save(key)), "checksum": interface.checksum}
        torch.save(module.weights, "module.pth")
        Path("module.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()):
            pack(files={"module_file": "module.pth"}, yaml_files={"module_config": "module.yaml"},
                 outpath=archive, option=["input_interface", "output_interface"])
    return archive


def test_archives_written_before_module_specs_still_load_and_compose(tmp_path):
    args = model_args(tmp_path)
    model = MTTask.build_model(args).eval()
    config, weights = save_trained(model, args, tmp_path / "exp")
    old = [write_archive_in_the_old_dict_format(m, tmp_path / f"old_{m.name}.zip")
           for m in split_model(config, weights)]
    modules = [read_module(archive, tmp_path / "unpacked") for archive in old]
    assert [m.role for m in modules] == ["encoder", "decoder"] and modules[0].task == "mt"
    composed = compose(modules, tmp_path / "interfaces")
    rebuilt = MTTask.build_model(model_args(tmp_path, **composed.config)).eval()
    rebuilt.load_state_dict(composed.state)
    torch.testing.assert_close(rebuilt(**EXAMPLE)[0], model(**EXAMPLE)[0])


def test_bfloat16_autocast_trains_with_float32_losses_close_to_float32s(tmp_path):
    model = MTTask.build_model(model_args(tmp_path)).eval()
    exact, _, _ = model(**EXAMPLE)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed, stats, _ = model(**EXAMPLE)
    assert mixed.dtype == stats["loss_ce"].dtype == stats["loss_ctc0"].dtype == torch.float32
    torch.testing.assert_close(mixed, exact, atol=0.05 * exact.item(), rtol=0)
    mixed.backward()
    assert all(p.grad is None or (p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all())
               for p in model.parameters())
