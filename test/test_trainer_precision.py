"""--use_amp true on CPU: ESPnet's trainer autocasts each forward pass with torch.cuda.amp alone
(nothing without a GPU); while legonn's trainer runs, those passes autocast the CPU to bfloat16."""
import espnet2.train.trainer as espnet_trainer
import torch

from legonn.tasks.trainer import autocasting_on_cpu_too


def autocast_inside(use_amp):
    with espnet_trainer.autocast(use_amp):
        return torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")


def test_use_amp_autocasts_espnets_forward_passes_to_bfloat16_on_cpu():
    with autocasting_on_cpu_too():
        assert autocast_inside(True) == (True, torch.bfloat16)
        assert not autocast_inside(False)[0]
    assert not autocast_inside(True)[0]  # ESPnet's own: CUDA only


def test_a_mixed_precision_step_updates_the_weights_the_next_forward_pass_reads():
    # autocast caches bfloat16 copies of the weights until its outermost context exits
    layer, x = torch.nn.Linear(4, 4), torch.ones(1, 4)
    optimizer = torch.optim.SGD(layer.parameters(), lr=1.0)
    outputs = []
    with autocasting_on_cpu_too():
        for _ in range(2):
            with espnet_trainer.autocast(True):
                y = layer(x)
            outputs.append(y.detach().float())
            optimizer.zero_grad()
            y.float().sum().backward()
            optimizer.step()
    assert not torch.allclose(outputs[0], outputs[1])
