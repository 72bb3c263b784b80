"""The optimizer a LegoNN training steps: torch's fused kernel on CPU (its default there is a
Python loop over the parameters), unless the config says otherwise."""
import argparse

import pytest
import torch

from legonn.tasks.mt import MTTask


def built_optimizer(optim, optim_conf):
    args = argparse.Namespace(optim=optim, optim_conf=optim_conf, sharded_ddp=False,
                              exclude_weight_decay=False)
    model = torch.nn.Linear(3, 2)
    (optimizer,) = MTTask.build_optimizers(args, model)
    return optimizer


@pytest.mark.parametrize("optim", ["adam", "adamw", "adagrad"])
def test_cpu_training_steps_with_the_fused_kernel(optim):
    optimizer = built_optimizer(optim, {"lr": 0.1})
    assert optimizer.param_groups[0]["fused"] is True


def test_a_config_that_asks_for_foreach_gets_it():
    optimizer = built_optimizer("adam", {"lr": 0.1, "foreach": True})
    assert optimizer.param_groups[0]["foreach"] and not optimizer.param_groups[0]["fused"]


def test_the_config_can_keep_the_loop_and_is_not_changed():
    optim_conf = {"lr": 0.1, "fused": False}
    optimizer = built_optimizer("adam", optim_conf)
    assert not optimizer.param_groups[0]["fused"]
    conf = {"lr": 0.1}
    built_optimizer("adam", conf)
    assert conf == {"lr": 0.1}  # what config.yaml records


@pytest.mark.parametrize("optim", ["adadelta", "sgd"])  # ESPnet's sgd is its own class, without one
def test_optimizers_without_a_fused_kernel_are_built_as_configured(optim):
    optimizer = built_optimizer(optim, {"lr": 1.0})
    assert not optimizer.param_groups[0].get("fused")
