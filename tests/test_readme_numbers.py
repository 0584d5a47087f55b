"""The README's measured numbers agree with the runs they come from.

Each number is measured in one place: a lesson's running time in its stored instructor
notebook (the timestamps Jupyter records for every cell), a network's accuracy in its
checkpoint's ``metrics.json``. The README and the lessons' own sentences quote them, and these
tests fail when a quote drifts from its source.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TRAINED_LESSONS = ["04_fc_snn_mnist", "05_csnn_mnist", "06_spiking_autoencoder",
                   "07_event_digits", "08_neurons_with_memory", "09_stdp", "10_ann_to_snn"]


def _instructor(lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb", as_version=4)


def _stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def recorded_seconds(notebook: nbformat.NotebookNode) -> float:
    """From the first cell's start to the last cell's reply, as Jupyter recorded them."""
    timings = [cell.metadata["execution"] for cell in notebook.cells
               if cell.cell_type == "code" and "execution" in cell.metadata]
    assert timings, "the notebook holds no execution times: execute it with nbconvert"
    start = min(_stamp(t["iopub.execute_input"]) for t in timings)
    end = max(_stamp(t["shell.execute_reply"]) for t in timings)
    return (end - start).total_seconds()


def readme_train_false_seconds(lesson: str) -> int:
    row = re.search(rf"^\| `{lesson}` \| (\d+) s \|", README, flags=re.MULTILINE)
    assert row, f"the README's time table has no row for {lesson}"
    return int(row.group(1))


@pytest.mark.parametrize("lesson", TRAINED_LESSONS)
def test_the_stored_lesson_ran_with_train_false(lesson):
    setup = [c.source for c in _instructor(lesson).cells
             if c.cell_type == "code" and re.search(r"^TRAIN = ", c.source, re.MULTILINE)]
    assert len(setup) == 1 and re.search(r"^TRAIN = False\b", setup[0], re.MULTILINE)


@pytest.mark.parametrize("lesson", TRAINED_LESSONS)
def test_the_readme_time_is_the_stored_lessons_own(lesson):
    measured = recorded_seconds(_instructor(lesson))
    assert abs(readme_train_false_seconds(lesson) - measured) <= 1, (
        f"README says {readme_train_false_seconds(lesson)} s for {lesson}, "
        f"its stored run took {measured:.0f} s")


@pytest.mark.parametrize("lesson", TRAINED_LESSONS)
def test_a_lesson_quotes_its_own_time_or_none(lesson):
    """'runs in about N seconds' beside TRAIN = False: within 15% (or 5 s) of the stored run."""
    notebook = _instructor(lesson)
    measured = recorded_seconds(notebook)
    text = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    text = " ".join(text.split())
    for quote in re.finditer(r"`TRAIN = False`[^.]*?(\d+) seconds", text):
        said = int(quote.group(1))
        assert abs(said - measured) <= max(5, 0.15 * measured), (
            f"{lesson} says {said} seconds, its stored run took {measured:.0f} s")


def _row(lesson: str) -> str:
    row = re.search(rf"^\| `{lesson}` \|.*$", README, flags=re.MULTILINE)
    assert row, f"the README's course table has no row for {lesson}"
    return row.group(0)


def _outputs(lesson: str) -> str:
    return " ".join(o.get("text", "") for c in _instructor(lesson).cells if c.cell_type == "code"
                    for o in c.outputs)


def test_lesson_06_numbers_in_the_readme_are_the_stored_experiments():
    from snnlab.course.experiments import lesson06

    stored = lesson06.load()
    mse = lesson06.summary(stored)
    row = _row("06_spiking_autoencoder")
    for variant in ("last step", "every step", "latent 8", "ANN (ReLU)"):
        assert f"{mse[variant]['mean']:.4f}" in row, variant
    wide = mse["latent 128"]
    assert f"{wide['min']:.3f}-{wide['max']:.3f}" in row
    step0 = {v: sum(r["mse_per_step"][0] for r in stored["runs"][v]) / len(stored["runs"][v])
             for v in ("every step", "last step")}
    assert f"{step0['every step']:.3f} against {step0['last step']:.3f} at step 0" in row


def test_lesson_08_numbers_in_the_readme_are_the_stored_runs():
    import torch

    from snnlab.course.experiments import lesson08

    study, betas = lesson08.load()["results"], lesson08.load_betas()["results"]
    row = _row("08_neurons_with_memory")

    def mean(kind, gap, key="accuracy"):
        return lesson08.summary(study, kind, gap, key)["mean"]

    expected = [f"chance ({mean('lif', 100):.1%})",
                f"learned betas keep {mean('lif_learned', 100):.1%}",
                f"synaptic neuron {mean('synaptic', 100):.1%}",
                f"ALIF {mean('alif', 100):.1%} ({mean('alif', 0):.1%} at G = 0)",
                f"with {mean('alif', 100, 'spikes_per_sample'):.0f} hidden spikes"]
    others = [mean(k, 100, "spikes_per_sample") for k in ("lif", "lif_learned", "synaptic")]
    expected.append(f"against {min(others):,.0f}-{max(others):,.0f} for the others")
    learned = torch.tensor([b for r in study if r["kind"] == "lif_learned" and r["gap"] == 100
                            for b in r["betas"]])
    expected.append(f"({int((learned >= 1).sum())} of {len(learned)} at beta = 1 for G = 100)")
    for beta in (0.9, 0.98, 1.0):
        values = [r["accuracy"] for r in betas if r["beta"] == beta]
        expected.append(f"{sum(values) / len(values):.1%} at {beta:g}")
    for words in expected:
        assert words in row, words


def test_lesson_09_numbers_in_the_readme_are_the_stored_runs():
    from snnlab.course.experiments import lesson09

    results = lesson09.load()["results"]
    row = _row("09_stdp")
    learned, control = (lesson09.summary(results, key) for key in ("accuracy",
                                                                   "control_accuracy"))
    assert (f"{learned['mean']:.1%} ({100 * learned['min']:.1f}-{learned['max']:.1%}) against "
            f"Diehl & Cook's {lesson09.PAPER:.1%}") in row
    assert f"{control['mean']:.1%} for the same network with random weights" in row
    outputs = _outputs("09_stdp")
    for quoted in ("a linear readout of the counts", "backpropagation"):
        number = re.search(quoted + r" (\d+\.\d)%", row).group(1)
        assert f"{number}%" in outputs, quoted


def test_lesson_10_numbers_in_the_readme_are_the_stored_runs():
    from snnlab.course import widgets
    from snnlab.course.experiments import lesson10

    study = lesson10.load()
    data = widgets.curves(study)
    row = _row("10_ann_to_snn")
    k = {t: i for i, t in enumerate(data["max"]["steps"].tolist())}
    ann_uj = float(data["ANN"]["uJ"])
    expected = [f"ANN ({float(data['ANN']['mean']):.2%}, 3 seeds)",
                f"({data['max']['mean'][k[32]]:.2%} max, {data['p99.9']['mean'][k[32]]:.2%} "
                "percentile)",
                f"({data['p99.9']['mean'][k[4]]:.2%} against {data['max']['mean'][k[4]]:.2%} at "
                "T = 4)", f"CSNN {study['csnn']['accuracy']:.2%} at T = 25",
                f"{data['max']['uJ'][k[32]] / ann_uj:.2f} (max) and "
                f"{data['p99.9']['uJ'][k[32]] / ann_uj:.2f} (percentile)"]
    for words in expected:
        assert words in row, words
    assert data["max"]["uJ"][k[64]] > ann_uj and data["p99.9"]["uJ"][k[64]] > ann_uj


def test_lesson_07_numbers_in_the_readme_are_the_stored_runs():
    from snnlab.course.experiments import lesson07

    stored = lesson07.load()
    order, larger = (lesson07.accuracies(stored, task) for task in ("order", "larger"))
    row = _row("07_event_digits")
    for condition in ("recurrent", "no_recurrence", "first_spike"):
        assert f"{order[condition]['mean']:.1%}" in row, condition
    recurrent = order["recurrent"]
    assert f"seeds {100 * recurrent['min']:.1f}-{recurrent['max']:.1%}" in row
    assert f"{stored['one_digit_ceiling']:.1%}" in row
    assert f"({larger['elman']['mean']:.1%})" in row
    best_spiking = max(larger[c]["max"] for c in ("recurrent", "no_recurrence", "first_spike"))
    assert best_spiking < stored["one_digit_ceiling"] < larger["elman"]["min"]  # the claim
    # the pretrained networks' accuracies, as the stored lesson measured them
    outputs = _outputs("07_event_digits")
    for quoted in re.findall(r"(\d+\.\d\d)%", row):
        assert f"{quoted}%" in outputs, f"README quotes {quoted}%, lesson 07 never prints it"
    operations = re.search(r"([\d.]+) M ACs against ([\d.]+) M MACs", row)
    assert operations, "the README's lesson 07 row gives no operation counts"
    printed = [int(n.replace(",", "")) for n in re.findall(r"\b\d{1,3}(?:,\d{3})+\b", outputs)]
    for quoted in operations.groups():
        assert any(round(n / 1e6, len(quoted.split(".")[1])) == float(quoted) for n in printed), (
            f"README quotes {quoted} M operations, lesson 07 prints no such count")


def test_lesson_04_numbers_in_the_readme_are_the_stored_experiments():
    from snnlab.course.experiments import lesson04

    row = _row("04_fc_snn_mnist")

    def quoted(values, digits):
        s = lesson04.spread(values)
        return (f"{100 * s['mean']:.{digits}f}% ({100 * s['min']:.{digits}f}-"
                f"{100 * s['max']:.{digits}f}%)")

    for condition, runs in lesson04.load_recipes()["results"].items():
        assert quoted(runs["test_accuracy"], 2) in row, condition
    for loss, runs in lesson04.load_losses()["results"].items():
        assert f"`{loss}` {quoted(runs['test_accuracy'], 1)}" in row, loss
    pretrained = (ROOT / "snnlab/course/checkpoints/fc.metrics.json").read_text()
    assert f"({100 * json.loads(pretrained)['test_accuracy']:.2f}% pretrained)" in row


def test_lesson_05_numbers_in_the_readme_are_the_stored_experiments():
    from snnlab.course.experiments import lesson05

    summary = lesson05.summarise(lesson05.load())
    row = _row("05_csnn_mnist")

    def accuracy(condition):
        mean, low, high = summary[condition]["accuracy"]
        return f"{100 * mean:.1f}% ({100 * low:.1f}-{100 * high:.1f}%)"

    plain, regularised = summary["CSNN"], summary["CSNN + regulariser"]
    assert (f"at an accuracy of {accuracy('CSNN + regulariser')} against {accuracy('CSNN')}, "
            "no difference beyond the spread") in row
    assert (f"leaves {regularised['dead maps 1'][0]:.0%} of layer 1's maps dead against "
            f"{plain['dead maps 1'][0]:.0%} (layer 2: {regularised['dead maps 2'][0]:.0%} "
            f"against {plain['dead maps 2'][0]:.0%})") in row
    assert regularised["dead maps 1"][2] < plain["dead maps 1"][1]  # beyond the spread
    assert f"ReLU twin {accuracy('ANN (ReLU)')} in {summary['ANN (ReLU)']['cpu_seconds'][0]:.0f}" \
        f" CPU-seconds of training against {plain['cpu_seconds'][0]:.0f}" in row
    assert "99.05%" in _outputs("05_csnn_mnist")
