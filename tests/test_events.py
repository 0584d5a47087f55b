"""The event camera of lesson 07: equations, motion, the order task's symmetry, data sets."""

import math

import pytest
import torch

from snnlab import encoding, events


def test_camera_events_by_hand():
    # one pixel: black, white, white, grey, black; eps = 0.1, theta = 0.5
    frames = torch.tensor([0.0, 1.0, 1.0, 0.3, 0.0]).view(5, 1, 1)
    ev = events.camera_events(frames, threshold=0.5)
    assert ev.shape == (4, 2, 1, 1)
    # ln(1.1/0.1) = 2.40 (ON); 0 (none); ln(0.4/1.1) = -1.01 (OFF); ln(0.1/0.4) = -1.39 (OFF)
    assert ev[:, 0].flatten().tolist() == [1.0, 0.0, 0.0, 0.0]
    assert ev[:, 1].flatten().tolist() == [0.0, 0.0, 1.0, 1.0]


def test_camera_events_are_delta_coding_of_log_intensity():
    frames = torch.rand(9, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    ev = events.camera_events(frames, threshold=0.3, eps=0.2)
    delta = encoding.delta(torch.log(frames + 0.2), 0.3, off_spike=True)[1:]
    assert torch.equal(ev[:, :, 0], (delta == 1).float())
    assert torch.equal(ev[:, :, 1], (delta == -1).float())


def test_a_still_digit_sends_no_events_and_contrast_is_relative():
    image = torch.rand(2, 1, 28, 28)
    assert events.saccade_events(image, num_steps=6, speed=0.0).sum() == 0
    # the same relative change fires the same events at any brightness (eps -> small)
    dim = torch.tensor([0.1, 0.2]).view(2, 1, 1)
    bright = torch.tensor([0.5, 1.0]).view(2, 1, 1)
    assert torch.equal(events.camera_events(dim, 0.6, eps=1e-6),
                       events.camera_events(bright, 0.6, eps=1e-6))


def test_saccade_path_goes_round_a_triangle_at_the_given_speed():
    path = events.saccade_path(12, speed=1.5, angle=0.3)
    assert path.shape == (13, 2)
    torch.testing.assert_close(path[0], path[-1])  # back at the start
    step_lengths = (path[1:] - path[:-1]).norm(dim=-1)
    # along the sides the speed is exact; a step across a corner cuts it short
    assert step_lengths.max().item() == pytest.approx(1.5, abs=1e-5)
    radius = 1.5 * 12 / 3 / math.sqrt(3)
    torch.testing.assert_close(path[0], radius * torch.tensor([math.cos(0.3), math.sin(0.3)]))
    several = events.saccade_path(12, 1.0, torch.tensor([0.0, 1.0, 2.0]))
    assert several.shape == (13, 3, 2)
    torch.testing.assert_close(several[:, 1], events.saccade_path(12, 1.0, 1.0))


def test_move_by_whole_pixels_shifts_the_padded_digit():
    image = torch.rand(1, 1, 28, 28)
    positions = torch.tensor([[[0.0, 0.0]], [[2.0, -1.0]]])
    frames = events.move(image, positions, canvas=34)
    centred = torch.nn.functional.pad(image[0, 0], (3, 3, 3, 3))
    torch.testing.assert_close(frames[0, 0], centred)
    torch.testing.assert_close(frames[1, 0], torch.roll(centred, (-1, 2), (0, 1)))


def test_saccade_events_are_seeded_and_sparse():
    images = torch.rand(4, 1, 28, 28) * (torch.rand(4, 1, 28, 28) > 0.8)
    a = events.saccade_events(images, num_steps=8, seed=3)
    assert a.shape == (8, 4, 2, 34, 34)
    assert torch.equal(a, events.saccade_events(images, num_steps=8, seed=3))
    assert not torch.equal(a, events.saccade_events(images, num_steps=8, seed=4))
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert 0 < a.mean() < 0.2
    assert not (a[:, :, 0] * a[:, :, 1]).any()  # never ON and OFF together


def test_order_events_summed_over_time_do_not_tell_the_order():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 3, 1, 28, 28, generator=generator)
    angles = (torch.tensor([0.1, 1.0, 2.0]), torch.tensor([3.0, 0.5, 5.0]))
    ab = events.order_events(a, b, steps_per_digit=6, gap=2, angles=angles)
    ba = events.order_events(b, a, steps_per_digit=6, gap=2, angles=angles[::-1])
    assert ab.shape == (16, 3, 2, 34, 34)
    torch.testing.assert_close(ab.sum(0), ba.sum(0))  # same counts, ON and OFF alike
    assert not torch.equal(ab, ba)  # but not the same recording
    # the first 8 steps are the first digit's alone
    alone = events.order_events(a, torch.zeros_like(b), 6, 2, angles=angles)
    assert torch.equal(ab[:8], alone[:8]) and alone[8:].sum() == 0


def test_event_digits_order_task(mnist_root):
    from snnlab import data

    digits = data.mnist(False, root=mnist_root, subset=200)
    dataset = events.EventDigits(digits, task="order", num_steps=12, seed=5)
    assert (dataset.labels[dataset.partner] != dataset.labels).all()
    x, y = dataset.collate([dataset[i] for i in range(6)])
    assert x.shape == (12, 6, 2, 34, 34) and y.tolist() == dataset.labels[:6].tolist()
    x2, _ = dataset.collate([dataset[i] for i in range(6)])
    assert torch.equal(x, x2)
    train, test = events.saccade_loaders(16, subset=40, test_subset=20, root=mnist_root,
                                         num_steps=5)
    x, y = next(iter(test))
    assert x.shape == (5, 16, 2, 34, 34) and y.shape == (16,)
    assert len(train.dataset) == 40


@pytest.mark.parametrize("call, name", [
    (lambda: events.camera_events(torch.rand(3, 4, 4), threshold=0), "threshold"),
    (lambda: events.camera_events(torch.rand(3, 4, 4) * 2), "frames"),
    (lambda: events.camera_events(torch.rand(1, 4, 4)), "frames"),
    (lambda: events.saccade_path(10, speed=5.0), "speed"),
    (lambda: events.saccade_path(0, speed=1.0), "num_steps"),
    (lambda: events.move(torch.rand(2, 1, 28, 28), torch.zeros(3, 1, 2)), "positions"),
    (lambda: events.move(torch.rand(1, 1, 28, 28), torch.zeros(3, 1, 2), canvas=20), "canvas"),
    (lambda: events.order_events(torch.rand(2, 1, 28, 28), torch.rand(3, 1, 28, 28)), "second"),
])
def test_bad_arguments_name_themselves(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_bad_task_is_refused(mnist_root):
    from snnlab import data

    digits = data.mnist(False, root=mnist_root, subset=20)
    with pytest.raises(ValueError, match="task"):
        events.EventDigits(digits, task="direction")
    with pytest.raises(ValueError, match="num_steps"):
        events.EventDigits(digits, task="order", num_steps=7)


def test_evaluate_weighs_time_first_batches_by_their_samples():
    from snnlab import losses, models, training

    torch.manual_seed(0)
    net = models.RecurrentSNN(num_inputs=2 * 4 * 4, num_hidden=8)
    x = (torch.rand(6, 4, 2, 4, 4) < 0.3).float()  # T = 6 steps, 4 samples
    y = torch.tensor([0, 1, 2, 3])
    whole = training.evaluate(net, [(x, y)], losses.ce_rate)
    split = training.evaluate(net, [(x[:, :3], y[:3]), (x[:, 3:], y[3:])], losses.ce_rate)
    assert split["loss"] == pytest.approx(whole["loss"])
    assert split["accuracy"] == pytest.approx(whole["accuracy"])


# ---------------------------------------------------------------- messages that say what to fix
def test_saccade_events_refuses_an_empty_batch():
    with pytest.raises(ValueError, match=r"images must be a batch of images \[B, 1, H, W\] or "
                                         r"\[B, H, W\] with B >= 1, got shape \(0, 1, 28, 28\): "
                                         r"an empty batch; give at least one image"):
        events.saccade_events(torch.rand(0, 1, 28, 28))


def test_saccade_events_says_how_to_shape_flat_images():
    with pytest.raises(ValueError, match=r"got shape \(2, 784\): flat vectors of 784 pixels; "
                                         r"give them their image shape, "
                                         r"images.view\(-1, 1, 28, 28\)"):
        events.saccade_events(torch.rand(2, 784))
    flat = torch.rand(2, 784)  # which, so shaped, works
    assert events.saccade_events(flat.view(-1, 1, 28, 28), num_steps=3).shape == (3, 2, 2, 34,
                                                                                  34)


def test_saccade_events_wants_one_angle_or_one_per_digit():
    with pytest.raises(ValueError, match=r"angle must be a number or one per sample, a tensor "
                                         r"\[2\] \(the batch has 2\), got shape \(3,\)"):
        events.saccade_events(torch.rand(2, 1, 28, 28), angle=torch.zeros(3))
    with pytest.raises(ValueError, match=r"angles\[1\] must be a number or one per sample"):
        events.order_events(torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28),
                            angles=(torch.zeros(2), torch.zeros(3)))
    with pytest.raises(ValueError, match=r"angles must be None or a pair .* got a tuple of 3"):
        events.order_events(torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28),
                            angles=(0.0, 1.0, 2.0))


def test_saccade_events_refuses_a_recording_too_big_for_memory_before_making_it():
    with pytest.raises(ValueError, match=r"saccade_events: num_steps=1000000 of 2 digit\(s\) on a "
                                         r"34 x 34 canvas makes a tensor of shape "
                                         r"\(2000002, 34, 34, 2\), 4.62e\+09 values \(17.2 GB of "
                                         r"torch.float32\), more than the 1.07e\+09 one call may "
                                         r"make; use fewer steps, or record fewer digits"):
        events.saccade_events(torch.rand(2, 1, 28, 28), num_steps=10**6)
    with pytest.raises(ValueError, match=r"order_events: steps_per_digit=1000000, gap=2 of 2 "
                                         r"digit\(s\).*GB"):
        events.order_events(torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28), 10**6)
    with pytest.raises(ValueError, match=r"saccade_path: num_steps=1000000000 .*use fewer steps"):
        events.saccade_path(10**9, speed=0.0)
    assert events.saccade_events(torch.rand(1, 1, 28, 28), num_steps=300).shape[0] == 300


def test_event_digits_says_which_data_set_it_takes():
    from torch.utils.data import Subset, TensorDataset

    plain = TensorDataset(torch.rand(4, 1, 28, 28), torch.arange(4))
    with pytest.raises(TypeError, match=r"mnist must be an MNIST data set from "
                                        r"snnlab.data.mnist\(train\) .*got TensorDataset$"):
        events.EventDigits(plain)
    with pytest.raises(TypeError, match="got Subset of TensorDataset$"):
        events.EventDigits(Subset(plain, [0, 1]))
