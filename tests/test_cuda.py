"""The same numbers on a CUDA GPU as on the CPU: encoders, LIF (step loop and fast path), the
networks, a training run and its checkpoint. Every test skips on a machine without CUDA (CI);
a maintainer with a GPU runs ``python -m pytest tests/test_cuda.py``.

Everything runs in float64, so that the GPU's other summation orders leave differences far
below the tolerances and no spike flips from one side of the threshold to the other.
"""

from __future__ import annotations

import pytest
import torch

from snnlab import checkpoints, encoding, losses, models, training
from snnlab.neurons import LIF, RESET_MODES

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")


def _spike_train(num_steps: int, batch: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(num_steps, batch, 784, generator=generator) < 0.3).double()


NETWORKS = {
    "fc": (lambda: models.FCSNN(num_hidden=50, num_steps=6), lambda: torch.rand(4, 1, 28, 28)),
    "single": (lambda: models.SingleLayerSNN(num_steps=9), lambda: _spike_train(9, 4)),
    "csnn": (lambda: models.CSNN(num_steps=5), lambda: torch.rand(4, 1, 28, 28)),
    "sae": (lambda: models.SpikingAutoencoder(latent_dim=8, num_steps=4),
            lambda: torch.rand(4, 1, 32, 32)),
    "recurrent": (lambda: models.RecurrentSNN(num_inputs=2 * 8 * 8, num_hidden=20),
                  lambda: (torch.rand(7, 4, 2, 8, 8) < 0.2).double()),
}


def _active(model: torch.nn.Module) -> torch.nn.Module:
    """Weights scaled up so that every layer fires (a stronger test), in float64."""
    model = model.double()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "weight" in name and parameter.dim() > 1:
                parameter.mul_(3.0)
    return model


def _run(model: torch.nn.Module, x: torch.Tensor, steps: bool = False):
    """Outputs and every parameter's gradient, moved to the CPU."""
    spikes, membrane = model.forward_steps(x) if steps else model(x)
    (membrane.square().mean() + spikes.mean()).backward()
    grads = {name: p.grad.cpu() for name, p in model.named_parameters()}
    return spikes.detach().cpu(), membrane.detach().cpu(), grads


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_networks_give_the_cpu_numbers_on_cuda_fast_path_and_step_loop(name):
    torch.manual_seed(0)
    build, make_input = NETWORKS[name]
    cpu_model = _active(build())
    x = make_input().double()
    expected = _run(cpu_model, x)
    assert expected[0].sum() > 0 or name == "sae"  # some activity, or the test means little
    for steps in (False, True):  # the fast path (forward) and the reference loop
        cuda_model = _active(build())
        cuda_model.load_state_dict(cpu_model.state_dict())
        cuda_model.to(CUDA)
        got = _run(cuda_model, x.to(CUDA), steps=steps)
        torch.testing.assert_close(got[0], expected[0])
        torch.testing.assert_close(got[1], expected[1], rtol=1e-9, atol=1e-9)
        for parameter, grad in expected[2].items():
            torch.testing.assert_close(got[2][parameter], grad, rtol=1e-7, atol=1e-9,
                                       msg=f"{name}: {parameter}")


@pytest.mark.parametrize("reset", RESET_MODES)
@pytest.mark.parametrize("form", ["sequence", "constant", "list"])
def test_lif_sequence_on_cuda_equals_the_cpu_step_loop(reset, form):
    generator = torch.Generator().manual_seed(1)
    beta = torch.rand(30, generator=generator, dtype=torch.float64) * 0.5 + 0.5
    if form == "constant":
        current = torch.rand(5, 30, generator=generator, dtype=torch.float64) * 0.8
        steps = [current] * 12
    else:
        steps = list(torch.rand(12, 5, 30, generator=generator, dtype=torch.float64).unbind())

    # the reference: LIF.forward step by step, on the CPU
    leaves = [s.clone().requires_grad_() for s in ([current] if form == "constant" else steps)]
    cpu = LIF(beta, threshold=0.7, reset=reset, learn_beta=True).double()
    mem, records = None, []
    for t in range(12):
        spk, mem = cpu(leaves[0] if form == "constant" else leaves[t], mem)
        records.append((spk, mem))
    spk_cpu, mem_cpu = (torch.stack(r) for r in zip(*records, strict=True))
    (mem_cpu.square().sum() + 2 * spk_cpu.sum()).backward()

    gpu = LIF(beta, threshold=0.7, reset=reset, learn_beta=True).double().to(CUDA)
    inputs = [leaf.detach().to(CUDA).requires_grad_() for leaf in leaves]
    if form == "constant":
        spk, mem = gpu.sequence(inputs[0], num_steps=12)
    elif form == "list":
        spk, mem = gpu.sequence(inputs)
    else:
        stacked = torch.stack(inputs)
        spk, mem = gpu.sequence(stacked)
    assert spk.device.type == "cuda" and mem.device.type == "cuda"
    (mem.square().sum() + 2 * spk.sum()).backward()

    assert spk_cpu.sum() > 0
    torch.testing.assert_close(spk.cpu(), spk_cpu.detach())
    torch.testing.assert_close(mem.detach().cpu(), mem_cpu.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gpu.beta.grad.cpu(), cpu.beta.grad, rtol=1e-9, atol=1e-12)
    for leaf, cuda_leaf in zip(leaves, inputs, strict=True):
        torch.testing.assert_close(cuda_leaf.grad.cpu(), leaf.grad, rtol=1e-9, atol=1e-12)


def test_encoders_on_cuda():
    images = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    images[0, 0, :4] = 0.0  # silent pixels, and pixels that always fire
    images[1, 0, :4] = 1.0
    for linear in (False, True):
        torch.testing.assert_close(
            encoding.latency(images.to(CUDA), 40, linear=linear).cpu(),
            encoding.latency(images, 40, linear=linear))
    frames = torch.rand(10, 2, 16, dtype=torch.float64)
    torch.testing.assert_close(encoding.delta(frames.to(CUDA), 0.2, off_spike=True).cpu(),
                               encoding.delta(frames, 0.2, off_spike=True))

    # the rate code draws its coins on the GPU: other coins, the same law
    torch.manual_seed(0)
    spikes = encoding.rate(images.to(CUDA), num_steps=400)
    assert spikes.device.type == "cuda" and spikes.dtype == torch.float64
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(spikes[:, 0, 0, :4].cpu(), torch.zeros(400, 4, 28, dtype=torch.float64))
    assert torch.equal(spikes[:, 1, 0, :4].cpu(), torch.ones(400, 4, 28, dtype=torch.float64))
    # each pixel's firing rate is within 5 standard errors of its probability
    error = (spikes.mean(0) - images.to(CUDA)).abs()
    standard_error = (images * (1 - images) / 400).sqrt().to(CUDA)
    assert bool((error <= 5 * standard_error + 1e-12).all())


def test_fit_on_cuda_trains_saves_and_loads_on_the_cpu(tmp_path):
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28)
    labels = torch.arange(64) % 10
    batches = [(images[i:i + 16], labels[i:i + 16]) for i in range(0, 64, 16)]
    model = models.FCSNN(num_hidden=40, num_steps=5)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    history = training.fit(model, batches, losses.ce_rate, optimizer, 3, batches,
                           device="cuda", checkpoint=tmp_path / "fc.pt", progress=False)
    assert history.stopped is None
    assert next(model.parameters()).device.type == "cuda"
    losses_per_epoch = history.epochs["train_loss"]
    assert losses_per_epoch[-1] < losses_per_epoch[0]

    loaded = checkpoints.load_checkpoint(tmp_path / "fc.pt", device="cpu")
    assert next(loaded.parameters()).device.type == "cpu"
    model.eval()
    with torch.no_grad():
        _, membrane_cuda = model(images.to(CUDA))
        _, membrane_cpu = loaded(images)
    torch.testing.assert_close(membrane_cuda.cpu(), membrane_cpu, rtol=1e-4, atol=1e-4)
