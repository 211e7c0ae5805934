"""The moving average of networks' weights: the update with its warm-up, the swap into the live
networks (compiled ones too), buffers taken from the live network."""

import pytest
import torch
from torch import nn

from ganzoo.train import fast
from ganzoo.train.ema import WeightAverage


class ConvBN(nn.Module):
    """A convolution, batch norm (running statistics and a counter as buffers) and a bias-free linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.head = nn.Linear(3, 1, bias=False)

    def forward(self, x):
        return self.head(self.bn(self.conv(x)).mean((2, 3)))


def nudge(net, *, seed):
    """Move every parameter (as a training step would) and the batch-norm statistics (a forward pass)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    net.train()
    net(torch.randn(4, 2, 5, 5, generator=g))


def snapshot(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


# -- the average -----------------------------------------------------------------------------------


def test_three_updates_match_a_hand_computation_with_the_warm_up():
    net = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(1.0)
    average = WeightAverage({"gen": net}, decay=0.2)
    shadow, expected_decays = 1.0, []
    for n, live in enumerate([3.0, -2.0, 5.0]):
        with torch.no_grad():
            net.weight.fill_(live)
        decay = min(0.2, (1 + n) / (10 + n))  # 0.1, 2/11, then capped at 0.2 (3/12 = 0.25 > 0.2)
        expected_decays.append(decay)
        assert average.current_decay() == pytest.approx(decay)
        average.update()
        shadow = decay * shadow + (1 - decay) * live
    assert expected_decays[2] == 0.2 and expected_decays[0] == pytest.approx(0.1)
    assert average.updates == 3
    assert average.state_dicts()["gen"]["weight"].item() == pytest.approx(shadow, abs=1e-6)
    assert net.weight.item() == 5.0, "the live weights are not touched"


def test_the_swap_holds_the_average_and_restores_the_live_weights_bit_for_bit_also_on_an_exception():
    net = ConvBN()
    average = WeightAverage({"gen": net}, decay=0.9)
    for seed in range(3):
        nudge(net, seed=seed)
        average.update()
    live = snapshot(net)
    shadow = {k: v.clone() for k, v in average.state_dicts()["gen"].items()}
    addresses = [p.data_ptr() for p in net.parameters()]
    assert not torch.equal(shadow["conv.weight"], live["conv.weight"])
    with average.swapped():
        inside = snapshot(net)
        assert [p.data_ptr() for p in net.parameters()] == addresses, "copied in place, never rebound"
    assert all(torch.equal(inside[k], shadow[k]) for k in shadow)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in live.items())

    with pytest.raises(RuntimeError, match="boom"):
        with average.swapped():
            with torch.no_grad():
                net.conv.weight.mul_(0)
            raise RuntimeError("boom")
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in live.items())


def test_buffers_are_the_live_networks_not_averaged():
    net = ConvBN()
    average = WeightAverage({"gen": net}, decay=0.9)
    for seed in range(3):
        nudge(net, seed=seed)
        average.update()
    exported = average.state_dicts()["gen"]
    assert list(exported) == list(net.state_dict())  # a whole state_dict: it loads strictly
    for key in ("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
        assert torch.equal(exported[key], net.state_dict()[key]), key
    assert int(exported["bn.num_batches_tracked"]) == 3
    with average.swapped():
        assert torch.equal(net.bn.running_mean, exported["bn.running_mean"])


def test_the_swap_is_seen_by_a_compiled_network_without_recompiling():
    torch.manual_seed(0)
    net = ConvBN().eval()
    twin = ConvBN().eval()  # eager, to compute what the averaged network gives
    average = WeightAverage({"gen": net}, decay=0.5)
    nudge(net, seed=1)
    average.update()
    net.eval()
    net.compile(backend="aot_eager")  # AOT autograd lifts the parameters, as inductor does
    x = torch.randn(2, 2, 5, 5)
    with torch.no_grad():
        live_out = net(x)
        compiled = fast.compilations()
        with average.swapped():
            averaged_out = net(x)
        assert torch.equal(net(x), live_out)
    assert fast.compilations() == compiled, "the swap made the compiled network recompile"
    twin.load_state_dict(average.state_dicts()["gen"])
    with torch.no_grad():
        assert torch.allclose(averaged_out, twin(x), atol=1e-6)
    assert not torch.allclose(averaged_out, live_out)
