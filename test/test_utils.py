"""legonn.utils: the helpers every part of legonn shares."""
import numpy as np
import pytest
import torch

from legonn.utils import atomic_path, atomic_save, collapse_ctc, first_few, greedy_ctc, read_kaldi_text, write_lines


def test_a_failed_write_leaves_the_previous_file_whole_and_no_partial_file(tmp_path):
    target = tmp_path / "text"
    write_lines(target, ["u1 old"])
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("u1 half", encoding="utf-8")
        raise RuntimeError("killed while writing")
    assert target.read_text(encoding="utf-8") == "u1 old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text"]


def test_atomic_save_writes_a_loadable_file(tmp_path):
    atomic_save({"w": torch.ones(2)}, tmp_path / "model.pth")
    assert torch.load(tmp_path / "model.pth")["w"].tolist() == [1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["model.pth"]


def test_greedy_ctc_collapses_repeats_then_drops_blanks():
    assert collapse_ctc([0, 1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    best = [0, 3, 3, 0, 2, 2]
    log_probs = torch.full((len(best) + 2, 4), -9.0)
    log_probs[torch.arange(len(best)), torch.tensor(best)] = 0.0
    assert greedy_ctc(log_probs, len(best)) == [3, 2]  # padded positions ignored
    assert greedy_ctc(log_probs.numpy(), len(best)) == [3, 2]  # numpy arrays too


def test_a_blank_penalty_lets_a_close_second_token_through_and_leaves_the_marginals_alone():
    log_probs = torch.tensor([[-0.3, -1.0, -9.0], [-9.0, -9.0, -0.1]])  # blank, a, b
    assert greedy_ctc(log_probs) == [2]
    assert greedy_ctc(log_probs, blank_penalty=0.5) == [2]  # blank -0.8 still beats a's -1.0
    assert greedy_ctc(log_probs, blank_penalty=1.0) == [1, 2]
    assert greedy_ctc(log_probs.numpy(), blank_penalty=1.0) == [1, 2]
    assert log_probs[0, 0].item() == pytest.approx(-0.3)


def test_first_few_names_five_ids_and_the_count():
    assert first_few(["a", "b"]) == "a, b"
    assert first_few([f"u{i}" for i in range(7)]) == "u0, u1, u2, u3, u4, ... (7 in all)"


def test_kaldi_text_rejects_a_repeated_id_naming_the_line(tmp_path):
    path = tmp_path / "text"
    path.write_text("u1 a\n\nu1 b\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path}:3: utterance id 'u1' appears twice"):
        read_kaldi_text(path)
    assert np.array_equal(collapse_ctc(np.array([0, 2, 2]).tolist()), [2])
