"""The exercise checkers of lessons 04-07 in Chinese: the pass lines, the named mistakes, the
case descriptions and the checkers' own diagnoses, with the right numbers; no English sentence
left in what lessons 04-07's checker files print; the English lines unchanged.

Lines made by judge.py's shared sentences (compare_tensor, judge_int) are another file's, and
are not asserted here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from chinese import english_prose, has_chinese
from test_exercises_04_06 import (  # the reference solutions of lessons 04-06
    accuracy,
    dead_and_saturated,
    flat_features,
    leaky_readout,
    mean_step_loss,
    mse_rate,
    run_stateful,
    train_step,
    transposed_output_size,
)

from snnlab import i18n, losses
from snnlab.course.exercises import lesson04, lesson05, lesson06, lesson07
from snnlab.course.experiments.lesson05 import rate_regulariser
from snnlab.neurons import reset_states

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def chinese():
    """The language is Chinese during the test, English again after it."""
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _line(check, answer, capsys) -> str:
    check(answer)
    out = capsys.readouterr().out.strip()
    assert "\n" not in out, out
    return out


# ------------------------------------------------------------------ right answers


def camera_events(frames, threshold):
    change = torch.log(frames[1:] + 0.1) - torch.log(frames[:-1] + 0.1)
    return torch.stack([change >= threshold, change <= -threshold], dim=1).float()


def recurrent_step(current, spk_prev, mem_prev, V, beta, theta):
    reset = (mem_prev > theta).float()
    mem = beta * mem_prev + current + spk_prev @ V.T - reset * theta
    return (mem > theta).float(), mem


def linear_ops(spikes, out_features):
    return float(spikes.sum()) * out_features / spikes.shape[1], float(spikes.shape[2]
                                                                       * out_features)


PASSING = [
    (lesson04.check_accuracy, accuracy, 6),
    (lesson04.check_mse_rate, mse_rate, 5),
    (lesson04.check_train_step, train_step, 4),
    (lesson05.check_flat_features, flat_features, 7),
    (lesson05.check_run_stateful, run_stateful, 4),
    (lesson05.check_dead_and_saturated, dead_and_saturated, 4),
    (lesson06.check_transposed_output_size, transposed_output_size, 7),
    (lesson06.check_leaky_readout, leaky_readout, 5),
    (lesson06.check_mean_step_loss, mean_step_loss, 6),
    (lesson07.check_camera_events, camera_events, 4),
    (lesson07.check_recurrent_step, recurrent_step, 5),
    (lesson07.check_linear_ops, linear_ops, 4),
]


@pytest.mark.parametrize("check, answer, cases", PASSING, ids=lambda x: getattr(x, "__name__", ""))
def test_a_right_answer_prints_the_chinese_pass_line(check, answer, cases, chinese, capsys):
    assert _line(check, answer, capsys) == f"✓ {check.__name__}：通过了全部 {cases} 个测试用例"


# ------------------------------------------------------------------ wrong answers, in Chinese


def _pred(counts, targets):
    return (counts.argmax(-1) == targets).float()


def _sgd_step(model, images, labels, loss_fn, optimizer, *, zero=True, step=True,
              loss_of=None):
    loss = (loss_of or loss_fn)(*model(images), labels)
    if zero:
        optimizer.zero_grad()
    loss.backward()
    if step:
        optimizer.step()
    return loss.item()


def _loss_after(model, images, labels, loss_fn, optimizer):
    _sgd_step(model, images, labels, loss_fn, optimizer)
    with torch.no_grad():
        return loss_fn(*model(images), labels).item()


def _reset_again_at_step_3(net, x, num_steps):
    reset_states(net)
    outputs = []
    for t in range(num_steps):
        if t == 3:
            reset_states(net)
        outputs.append(net(x))
    return torch.stack(outputs)


def _events(frames, threshold):
    change = torch.log(frames[1:] + 0.1) - torch.log(frames[:-1] + 0.1)
    return torch.stack([change >= threshold, change <= -threshold], dim=1)


COUNTS_1 = "[[1, 3, 0], [2, 0, 1], [0, 1, 3], [3, 1, 0]]"
# (check, wrong answer, what its Chinese line must hold: the case and the diagnosis)
WRONG = {
    "accuracy: the last step": (
        lesson04.check_accuracy, lambda s, t: _pred(s[-1], t).mean().item(),
        [f"第 1 个测试用例（4 个样本的批次：脉冲最多的类别胜出；每个样本的脉冲计数为 {COUNTS_1}）",
         "你的答案正是这样做得到的：只读取了最后一个时间步 `spikes[-1]`；应当先对所有时间步的"
         "脉冲求和 `spikes.sum(0)`，再取 `argmax(-1)`"]),
    "accuracy: ties to the last class": (
        lesson04.check_accuracy,
        lambda s, t: ((s.shape[-1] - 1 - s.sum(0).flip(-1).argmax(-1)) == t).float().mean()
        .item(),
        ["第 5 个测试用例（平局判给编号最小的类别，与 argmax 相同；每个样本的脉冲计数为 "
         "[[2, 2, 1], [0, 3, 3]]）", "计数相同时把平局判给了编号最大的类别"]),
    "accuracy: the error rate": (
        lesson04.check_accuracy, lambda s, t: 1 - accuracy(s, t),
        ["第 1 个测试用例", "给出了错误率，即预测错误的样本所占的比例"]),
    "accuracy: a string": (
        lesson04.check_accuracy, lambda s, t: "0.5",
        ["准确率应当是 Python 浮点数，而你返回的是 str"]),
    "mse_rate: RMSE": (
        lesson04.check_mse_rate, lambda s, t: mse_rate(s, t).sqrt(),
        ["第 2 个测试用例（输出层完全静默：损失为 1 / 10）", "开了平方根（RMSE）；损失是均方误差"]),
    "mse_rate: one_hot without classes": (
        lesson04.check_mse_rate,
        lambda s, t: ((s.mean(0) - F.one_hot(t).float()) ** 2).mean(),
        ["第 1 个测试用例（正确的神经元每个时间步都发放，其余的从不发放：损失为 0）",
         "你的函数抛出了与不带 `num_classes` 调用 `F.one_hot(targets)` 相同的错误"]),
    "train_step: no optimizer.step()": (
        lesson04.check_train_step, lambda *a: _sgd_step(*a, step=False),
        ["第 1 个测试用例（用 ce_rate 走一步；返回更新之前的损失）",
         "权重没有变化，尽管 .grad 里已有梯度：请在 `loss.backward()` 之后调用 "
         "`optimizer.step()`"]),
    "train_step: no zero_grad": (
        lesson04.check_train_step, lambda *a: _sgd_step(*a, zero=False),
        ["第 2 个测试用例（上一个批次留下的旧梯度还在 .grad 里）",
         "你的这一步还用上了 .grad 里残留的旧梯度（它们会累加）"]),
    "train_step: always ce_rate": (
        lesson04.check_train_step, lambda *a: _sgd_step(*a, loss_of=losses.ce_rate),
        ["第 3 个测试用例（换了一个损失函数：请使用传入的 loss_fn）",
         "你的这一步沿着 losses.ce_rate 的梯度更新，而不是传入的 loss_fn"
         "（losses.ce_membrane）的梯度"]),
    "train_step: the loss after the update": (
        lesson04.check_train_step, _loss_after,
        ["第 1 个测试用例", "你返回的是更新之后的损失（1.051）；请返回你调用 backward 的那个损失，"
         "1.099"]),
    "flat_features: side - k": (
        lesson05.check_flat_features,
        lambda n, ks, p, c: c[-1] * lesson05._side_after(n, ks, p, trim=0) ** 2,
        ["第 1 个测试用例（不池化（pool 为 1）：3x3 卷积削去 2 个像素，20 -> 18）",
         "边长减去了卷积核大小，而不是卷积核大小减 1"]),
    "flat_features: every layer's channels": (
        lesson05.check_flat_features,
        lambda n, ks, p, c: sum(c) * lesson05._side_after(n, ks, p) ** 2,
        ["第 3 个测试用例（本课的 CSNN，输入 28x28 的 MNIST：28 -> 24 -> 12 -> 8 -> 4）",
         "把每一层的通道数都加了起来"]),
    "run_stateful: no reset": (
        lesson05.check_run_stateful, lambda net, x, n: torch.stack([net(x) for _ in range(n)]),
        ["第 2 个测试用例（网络里还留着上一个同样大小的批次的膜电位）",
         "你的函数没有重置网络：它接着上一个批次留下的膜电位继续运行；在第一个时间步之前调用一次 "
         "`snnlab.neurons.reset_states(net)`"]),
    "run_stateful: batch first": (
        lesson05.check_run_stateful,
        lambda net, x, n: run_stateful(net, x, n).transpose(0, 1),
        ["第 1 个测试用例（一个新建的网络）", "按批次优先堆叠了输出"]),
    "run_stateful: a reset in the middle": (
        lesson05.check_run_stateful, _reset_again_at_step_3,
        ["第 1 个测试用例（一个新建的网络）", "outputs[0:3] 是对的；outputs[3] 应为 "]),
    "dead_and_saturated: the wrong order": (
        lesson05.check_dead_and_saturated, lambda s: dead_and_saturated(s)[::-1],
        ["第 4 个测试用例（特征图 [T, B, C, H, W]）",
         "返回了 (saturated, dead)，顺序反了；请返回 (dead, saturated)"]),
    "dead_and_saturated: dead as a tensor": (
        lesson05.check_dead_and_saturated,
        lambda s: (torch.tensor(dead_and_saturated(s)[0]), dead_and_saturated(s)[1]),
        ["dead（死神经元比例）应当是 Python 浮点数，而你的是张量 0.3333；最后加上 `.item()`"]),
    "transposed size: no - 1": (
        lesson06.check_transposed_output_size, lambda n, k, s, p, op: n * s - 2 * p + k + op,
        ["第 1 个测试用例（步幅 3，填充 2，6x6 卷积核：9 -> 26）",
         "用 size 乘以 stride，忘了减 1"]),
    "transposed size: + padding": (
        lesson06.check_transposed_output_size,
        lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op,
        ["第 1 个测试用例", "加上了填充，而不是减去；转置卷积会削去它的填充：`- 2 * padding`"]),
    "leaky readout: the mean": (
        lesson06.check_leaky_readout, lambda c, b: c.mean(0),
        ["第 2 个测试用例（4 个时间步：`0.2 * 0.7 ** 3 + 0.4 * 0.7 ** 2 + 0.1 * 0.7 + 0.3`）",
         "对电流取了时间平均"]),
    "leaky readout: the first step": (
        lesson06.check_leaky_readout, lambda c, b: c[0],
        ["第 2 个测试用例", "返回了第一个时间步的膜电位；请返回最后一个时间步的膜电位 U[T-1]"]),
    "mean step loss: the last step": (
        lesson06.check_mean_step_loss, lambda s, m, x: ((m[-1] - x) ** 2).mean(),
        ["第 1 个测试用例（两个时间步，误差大小各异）", "只给最后一个时间步打分"]),
    "mean step loss: detached": (
        lesson06.check_mean_step_loss, lambda s, m, x: mean_step_loss(s, m, x).detach(),
        ["第 6 个测试用例（损失保留了反向传播所需的计算图）",
         "但你的结果没有梯度（requires_grad 为 False）",
         "提示：对张量使用 torch 运算；不要用 `.item()`、`.detach()` 或 numpy"]),
    "camera: ON and OFF swapped": (
        lesson07.check_camera_events, lambda f, k: camera_events(f, k).flip(1),
        ["第 1 个测试用例（一个像素：亮起、保持、变暗、熄灭）", "你的 ON 和 OFF 通道弄反了"]),
    "camera: log without + 0.1": (
        lesson07.check_camera_events,
        lambda f, k: torch.stack([(d := torch.log(f[1:]) - torch.log(f[:-1])) >= k, d <= -k],
                                 dim=1).float(),
        ["第 3 个测试用例（一个很暗的像素：0.02 -> 0.04 -> 0.06 只让 ln(I + 0.1) 变化一点点）",
         "少了 + 0.1"]),
    "camera: bool events": (
        lesson07.check_camera_events, _events,
        ["事件应当和帧一样是浮点张量（0.0 / 1.0），而你的是 torch.bool"]),
    "recurrent: V untransposed": (
        lesson07.check_recurrent_step,
        lambda c, s, m, V, b, th: recurrent_step(c, s, m, V.T, b, th),
        ["第 2 个测试用例（上一个时间步的脉冲经由 V 传来（环形连接：0 -> 1 -> 2 -> 0））",
         "你没有对 V 转置，用了 `spk_prev @ V`"]),
    "recurrent: (mem, spk)": (
        lesson07.check_recurrent_step, lambda *a: recurrent_step(*a)[::-1],
        ["第 1 个测试用例（静息的神经元，只接收输入）",
         "你返回的是 (mem, spk)；请返回 (spk, mem)"]),
    "linear ops: rounded down": (
        lesson07.check_linear_ops,
        lambda s, o: (float(int(s.sum()) * o // s.shape[1]), float(s.shape[2] * o)),
        ["第 3 个测试用例（3 个样本的批次，共 5 个脉冲：每个样本 5 * 2 / 3 次累加，不是整数）",
         "你的 snn_acs 被向下取整了"]),
    "linear ops: no out_features": (
        lesson07.check_linear_ops,
        lambda s, o: (float(s.sum()) / s.shape[1], float(s.shape[2] * o)),
        ["第 1 个测试用例（一个样本、一个时间步，两个脉冲送入 3 个输出）",
         "你的 snn_acs 漏掉了 out_features"]),
    "linear ops: one number": (
        lesson07.check_linear_ops, lambda s, o: linear_ops(s, o)[0],
        ["请返回二元组 (snn_acs, ann_macs)，而你的是 6"]),
}


@pytest.mark.parametrize("name", WRONG)
def test_a_wrong_answer_is_told_in_chinese_with_its_numbers(name, chinese, capsys):
    check, answer, said = WRONG[name]
    out = _line(check, answer, capsys)
    assert out.startswith(f"✗ {check.__name__}："), out
    for words in said:
        assert words in out, out
    assert english_prose(out) == [], out


# ------------------------------------------------------------------ the regulariser (lesson 05)

RUN = {"accuracy": 0.74, "dead maps": 15, "maps": 76, "largest term": 0.01, "stopped": None}


def _judged(monkeypatch, outcome) -> None:
    """check_regulariser on a made-up pair of runs (no training)."""
    monkeypatch.setattr(lesson05, "_without_regulariser", lambda: dict(RUN))
    monkeypatch.setattr(lesson05, "regulariser_run", lambda *a: {**RUN, **outcome})
    lesson05.check_regulariser(rate_regulariser)


@pytest.mark.parametrize("outcome, line", [
    ({"dead maps": 7, "accuracy": 0.64},
     "✓ check_regulariser：通过：隐藏层的死特征图 15/76 -> 7/76，测试准确率 64.0%"
     "（不加你的损失项为 74.0%）"),
    ({"dead maps": 0, "accuracy": 0.63},
     "✗ check_regulariser：你的损失项太强了：死特征图 15/76 -> 0/76，但测试准确率从 74.0%"
     "（不加它）降到了 63.0%；它的最大值为 0.01，"),
    ({"dead maps": 8, "accuracy": 0.80},
     "✗ check_regulariser：你的损失项没有唤醒足够多的死特征图：加上它训练后死特征图为 8/76，"
     "不加它时为 15/76"),
    ({"stopped": "non-finite"},
     "✗ check_regulariser：训练已停止：加上你的损失项后损失变成了 NaN 或无穷大"),
])
def test_the_regulariser_verdict_in_chinese(outcome, line, chinese, capsys, monkeypatch):
    _judged(monkeypatch, outcome)
    out = capsys.readouterr().out.strip()
    assert out.startswith(line), out
    assert english_prose(out) == [], out


@pytest.mark.parametrize("answer, said", [
    (lambda L: -rate_regulariser(L), "你的损失项推错了方向：在第 1 层第 3 张特征图和第 2 层"
                                     "第 10 张特征图从不发放的脉冲记录上"),
    (lambda L: rate_regulariser(L).detach(),
     "你的损失项没有把梯度传回脉冲，加到损失上不起任何作用"),
    (lambda L: rate_regulariser(L).item(), "你的函数返回了 Python 数 "),
    (lambda L: torch.ones(76, requires_grad=True), "而你的形状是 [76]"),
    (lambda L: "regularise", "请把这一损失项作为只含一个数的 torch 张量返回，而你的是 "
                             "'regularise'（类型为 str）"),
])
def test_the_regulariser_probe_in_chinese(answer, said, chinese, capsys, monkeypatch):
    monkeypatch.setattr(lesson05, "regulariser_run", lambda *a: pytest.fail("trained"))
    lesson05.check_regulariser(answer)
    out = capsys.readouterr().out.strip()
    assert out.startswith("✗ check_regulariser：训练之前，") and said in out, out
    assert english_prose(out) == [], out


def test_the_regulariser_stub_and_a_non_function_in_chinese(chinese, capsys):
    def stub(layers):
        raise NotImplementedError

    lesson05.check_regulariser(stub)
    lesson05.check_regulariser(None)
    stubbed, passed_none = capsys.readouterr().out.strip().splitlines()
    assert stubbed.startswith("… check_regulariser：还没有实现。")
    assert passed_none == ("✗ check_regulariser：请传入函数本身（不要调用它），例如 "
                           "check_regulariser(my_regulariser)；你传入的是 NoneType")


# ------------------------------------------------------------------ every message of the files


def _messages(path: Path) -> list[tuple[str, str | None]]:
    """(message, context) of every tr("...") call in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr":
            context = next((k.value.value for k in node.keywords if k.arg == "context"), None)
            found.append((node.args[0].value, context))
    return found


FILES = [ROOT / "snnlab" / "course" / "exercises" / f"lesson0{n}.py" for n in "4567"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_message_of_the_checker_files_is_chinese_without_english_prose(path, chinese):
    messages = _messages(path)
    assert len(messages) > 40  # the file's named mistakes, cases, hints and diagnoses
    for message, context in messages:
        shown = i18n.tr(message, context=context)
        if not re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w*\}", "", message)):
            continue  # a frame of placeholders, e.g. "{what}; {fix}" or "{dead} of {maps}"
        assert has_chinese(shown) and english_prose(shown) == [], (message, shown)


# ------------------------------------------------------------------ English unchanged


def test_english_lines_are_unchanged(capsys, monkeypatch):
    assert i18n.language() == "en"
    out = _line(lesson04.check_accuracy, WRONG["accuracy: the last step"][1], capsys)
    assert out.startswith(
        f"✗ check_accuracy: case 1 (a batch of 4: the class with the most spikes wins; spike "
        f"counts per sample {COUNTS_1}) with spikes=")
    assert out.endswith(
        ": your answer is what you get when you read only the last time step, spikes[-1]; count "
        "the spikes over all steps first, spikes.sum(0), then argmax(-1)")
    out = _line(lesson04.check_train_step, _loss_after, capsys)
    assert ("you returned the loss after the update (1.051); return the loss you called "
            "backward on, 1.099. Hint: forward, loss = loss_fn(spikes, membrane, labels), "
            "optimizer.zero_grad(), loss.backward(), optimizer.step(), return loss.item()") in out
    out = _line(lesson04.check_mse_rate, WRONG["mse_rate: one_hot without classes"][1], capsys)
    assert out.endswith(
        ": your function raised the error of F.one_hot(targets) without num_classes: it makes "
        "only max(targets) + 1 classes; give it the number of classes, F.one_hot(targets, "
        "spikes.shape[-1])")
    out = _line(lesson05.check_run_stateful, _reset_again_at_step_3, capsys)
    assert ": outputs[0:3] are right; outputs[3] should be [" in out
    assert _line(lesson07.check_linear_ops, lambda s, o: 6, capsys).endswith(
        ": return the pair (snn_acs, ann_macs), but yours is 6.")
    _judged(monkeypatch, {"dead maps": 7, "accuracy": 0.64})
    assert capsys.readouterr().out.strip() == (
        "✓ check_regulariser: passed: dead maps 15 of 76 -> 7 of 76 of the hidden layers, test "
        "accuracy 64.0% (74.0% without your term)")
    assert _line(lesson06.check_leaky_readout, leaky_readout, capsys) == (
        "✓ check_leaky_readout: passed 5 cases")
