"""Model averaging after a training resumed under other settings: ESPnet averages the n best
epochs by their checkpoints, which an earlier run with a smaller keep_nbest_models deleted."""
import espnet2.train.trainer as espnet_trainer
import pytest
import torch
from espnet2.main_funcs.average_nbest_models import average_nbest_models
from espnet2.train.reporter import Reporter

from legonn.tasks.trainer import average_kept_nbest_models, averaging_kept_checkpoints

VALID_LOSS = [5.0, 3.0, 2.0, 4.0, 6.0]  # epochs 1-5: best 3, 2, 4, 1, 5
CRITERION = [("valid", "loss", "min")]


def trained(tmp_path, kept_epochs):
    reporter = Reporter()
    for epoch, loss in enumerate(VALID_LOSS, 1):
        reporter.set_epoch(epoch)
        with reporter.observe("valid") as sub:
            sub.register({"loss": torch.tensor(loss)})
            sub.next()
    for epoch in kept_epochs:
        torch.save({"w": torch.tensor([float(epoch)])}, tmp_path / f"{epoch}epoch.pth")
    return reporter


def test_espnets_averaging_stops_on_a_checkpoint_that_earlier_settings_deleted(tmp_path):
    reporter = trained(tmp_path, kept_epochs=[2, 3, 5])  # keep_nbest_models 2 kept 3, 2 (+ the last)
    with pytest.raises(FileNotFoundError):
        average_nbest_models(tmp_path, reporter, CRITERION, [3])


def test_averaging_uses_the_best_checkpoints_still_on_disk_and_names_the_missing(tmp_path, caplog):
    reporter = trained(tmp_path, kept_epochs=[2, 3, 5])
    average_kept_nbest_models(tmp_path, reporter, CRITERION, [3])
    averaged = torch.load(tmp_path / "valid.loss.ave_3best.pth")
    assert float(averaged["w"]) == pytest.approx((3 + 2 + 5) / 3)  # epochs 4 and 1 are gone
    assert "epochs [4]" in caplog.text
    assert reporter.sort_epochs_and_values("valid", "loss", "min")[2][0] == 4  # the reporter is unchanged


def test_fewer_kept_checkpoints_than_asked_are_averaged_all(tmp_path):
    reporter = trained(tmp_path, kept_epochs=[2, 3, 5])
    average_kept_nbest_models(tmp_path, reporter, CRITERION, [4])  # ESPnet would keep the best alone
    assert (tmp_path / "valid.loss.ave.pth").resolve().name == "valid.loss.ave_3best.pth"
    assert float(torch.load(tmp_path / "valid.loss.ave.pth")["w"]) == pytest.approx((3 + 2 + 5) / 3)


def test_with_every_checkpoint_on_disk_the_average_is_espnets(tmp_path):
    reporter = trained(tmp_path, kept_epochs=[1, 2, 3, 4, 5])
    average_kept_nbest_models(tmp_path, reporter, CRITERION, [3])
    assert float(torch.load(tmp_path / "valid.loss.ave_3best.pth")["w"]) == pytest.approx((3 + 2 + 4) / 3)


def test_the_trainer_uses_it_only_while_a_legonn_training_runs():
    with averaging_kept_checkpoints():
        assert espnet_trainer.average_nbest_models is average_kept_nbest_models
    assert espnet_trainer.average_nbest_models is average_nbest_models
