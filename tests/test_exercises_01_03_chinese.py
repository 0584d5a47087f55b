"""The checkers of lessons 01-03 in Chinese: the pass line, every named mistake, every case
description, hint and diagnosis (judge.py's shared sentences included) is Chinese, carries the
same numbers as the English line, and leaves no English sentence; the English lines are the
same as before the translation.

The wrong answers are the catalogues of tests/test_exercises_lesson01.py, _lesson02.py and
_lesson03.py, run once more with the language set to Chinese.
"""

from __future__ import annotations

import math

import pytest
import test_exercises_lesson01 as l01
import test_exercises_lesson02 as l02
import test_exercises_lesson03 as l03
import torch
from chinese import english_prose, has_chinese

from snnlab import i18n
from snnlab.course.exercises import judge, lesson01, lesson02, lesson03
from snnlab.course.exercises.lesson01 import check_latency_code, check_rate_code
from snnlab.course.exercises.lesson02 import check_beta, check_lif_layer
from snnlab.course.exercises.lesson03 import (
    check_atan_derivative,
    check_bptt_grad,
    check_spike_function,
)
from snnlab.i18n import tr


@pytest.fixture
def chinese():
    """The language is Chinese during the test, English again after it."""
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def run(check, answer, capsys) -> tuple[bool, str]:
    """The checker's verdict and its one printed line."""
    passed = check(answer)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # always exactly one line
    return passed, out.strip()


def assert_chinese(line: str) -> None:
    assert has_chinese(line), line
    assert english_prose(line) == [], (english_prose(line), line)


# The English sentences of the named mistakes (the modules build them in the current language).
MISTAKES = {
    check_rate_code: [m.message for m in lesson01._rate_mistakes()],
    check_latency_code: [m.message for m in lesson01._latency_mistakes()],
    check_beta: [m.message for m in lesson02._beta_mistakes()],
    check_lif_layer: [m.message for m in lesson02._lif_mistakes()],
    check_atan_derivative: [m.message for m in lesson03._atan_mistakes()],
    check_spike_function: [m.message for m in lesson03._spike_mistakes(None)],
    check_bptt_grad: [m.message for m in lesson03._bptt_mistakes()],
}

CATALOGUE = (
    [(check_rate_code, answer, words) for answer, words in l01.RATE_WRONG.values()]
    + [(check_latency_code, answer, words) for answer, words in l01.LATENCY_WRONG.values()]
    + [(check_beta, answer, words) for answer, words in l02.BETA_CATALOGUE]
    + [(check_lif_layer, answer, words) for answer, words in l02.LIF_CATALOGUE]
    + l03.CASES
)


# ------------------------------------------------------------------ right answers

@pytest.mark.parametrize("check, answer, count", [
    (check_rate_code, l01.rate_bernoulli, 6),
    (check_latency_code, l01.latency_where, 7),
    (check_beta, l02.beta_math, 6),
    (check_lif_layer, l02.lif_loop, 7),
    (check_atan_derivative, l03.atan_derivative, 4),
    (check_spike_function, l03.spike_class(), 5),
    (check_bptt_grad, l03.bptt_grad_w, 5),
])
def test_a_right_answer_prints_the_chinese_pass_line(check, answer, count, chinese, capsys):
    passed, out = run(check, answer, capsys)
    assert passed is True
    assert out == f"✓ {check.__name__}：通过了全部 {count} 个测试用例"


# ------------------------------------------------------------------ every wrong answer

@pytest.mark.parametrize("check, answer, words", CATALOGUE)
def test_every_wrong_answer_is_diagnosed_in_chinese(check, answer, words, chinese, capsys):
    passed, out = run(check, answer, capsys)
    assert passed is False
    assert out.startswith(f"✗ {check.__name__}：第 "), out
    assert_chinese(out)
    named = [m for m in MISTAKES[check] if tr(m) in out]
    if words is None:  # no known mistake: the Chinese expected / received line
        assert named == [], out
        assert "应" in out, out
    else:  # exactly its own mistake, in Chinese
        english = [m for m in MISTAKES[check] if words in m]
        assert named == english and len(english) == 1, (named, english, out)
        assert tr(english[0]) != english[0]


def test_every_named_mistake_has_a_chinese_sentence(chinese):
    for messages in MISTAKES.values():
        for message in messages:
            assert_chinese(tr(message))


@pytest.mark.parametrize("module, check, answer", [
    (lesson01, check_rate_code, l01.rate_bernoulli),
    (lesson01, check_latency_code, l01.latency_where),
    (lesson02, check_beta, l02.beta_math),
    (lesson02, check_lif_layer, l02.lif_loop),
    (lesson03, check_atan_derivative, l03.atan_derivative),
    (lesson03, check_spike_function, l03.spike_class()),
    (lesson03, check_bptt_grad, l03.bptt_grad_w),
])
def test_every_case_description_and_hint_is_chinese(module, check, answer, chinese, monkeypatch):
    built = []
    monkeypatch.setattr(module, "run_cases", lambda name, fn, cases, *a, **k: built.extend(cases))
    check(answer)
    assert built
    for case in built:
        assert english_prose(case.what) == [] and english_prose(case.hint) == [], case
        formulas = ("alpha = 2", "tau = 5 ms，dt = 1 ms")  # nothing else to say in Chinese
        assert has_chinese(case.what) or case.what in formulas, case.what
        assert case.hint == "" or has_chinese(case.hint), case.hint


# ------------------------------------------------------------------ named mistakes, in full

CHINESE_LINES = [
    (check_rate_code, l01.RATE_WRONG["divided by gain"][0],
     "✗ check_rate_code：第 4 个测试用例（增益按比例缩放发放率），输入 images=[0.2, 0.6, 1], "
     "num_steps=4000, gain=0.5：你的像素以概率 pixel / gain 发放：正确的概率是 gain * pixel"),
    (check_rate_code, l01.RATE_WRONG["inverted"][0],
     "✗ check_rate_code：第 2 个测试用例（黑色像素从不发放，白色像素每步都发放），输入 "
     "images=[0, 1, 0], num_steps=400, gain=1：你的像素以概率 1 - p 发放：均匀随机数*小于* p "
     "时才产生脉冲（u < p）"),
    (check_latency_code, l01.LATENCY_WRONG["no tau"][0],
     "✗ check_latency_code：第 1 个测试用例（越亮的像素越早发放，每个只发放一次），输入 "
     "images=[1, 0.5, 0.3], num_steps=10, tau=5, threshold=0.2：你的脉冲时间没有乘以 tau："
     "膜的时间常数决定了时间尺度，t = tau * (...)"),
    (check_latency_code, l01.LATENCY_WRONG["late moved"][0],
     "✗ check_latency_code：第 6 个测试用例（晚于最后一个时间步的脉冲被丢弃），输入 "
     "images=[0.95, 0.21, 0.6], num_steps=6, tau=3, threshold=0.2：晚于最后一个时间步的脉冲"
     "应当丢弃，而你把它移到了最后一个时间步"),
    (check_beta, lambda tau, dt: 1 - dt / tau,
     "✗ check_beta：第 1 个测试用例（tau = 5 ms，dt = 1 ms），输入 tau=0.005, dt=0.001：这是"
     "欧拉法的 beta，1 - dt/tau，即泰勒级数的前两项：精确的衰减率要由 U(t) = U(0) e^(-t/tau) "
     "在一个时间步上求出"),
    (check_beta, lambda tau, dt: math.exp(dt / tau),
     "✗ check_beta：第 1 个测试用例（tau = 5 ms，dt = 1 ms），输入 tau=0.005, dt=0.001：符号"
     "错误：exp(+dt/tau) 大于 1，膜电位会越来越大；而泄漏应使它减小"),
    (check_lif_layer, l02.lif(clip=True),
     "✗ check_lif_layer：第 6 个测试用例（抑制：负输入把膜电位推到静息值以下），输入 "
     "currents=[0.75, 0.5, -1.5, -0.5, 1, 1, 1]（形状 [7, 1]）, beta=0.75, threshold=1：你的"
     "膜电位从不低于 0：更新式中没有任何截断；负的（抑制性）输入会把 U 推到静息值以下"),
    (check_lif_layer, l02.lif(strict=False),
     "✗ check_lif_layer：第 3 个测试用例（恰好等于阈值不算超过阈值，复位前后各检查一次），输入 "
     "currents=[0.5, 0.5, 0.5, 0.5, 0.5, 0.5]（形状 [6, 1]）, beta=1, threshold=1：在你的结果"
     "中，膜电位恰好等于阈值时也发放了：应使用 >（严格大于），而不是 >="),
    (check_atan_derivative, l03.ATAN_CATALOGUE[0][0],
     "✗ check_atan_derivative：第 1 个测试用例（alpha = 2），输入 x=[-2, -0.5, -0.1, 0, 0.1, "
     "0.5, 2], alpha=2：缺少链式法则的因子：d/dx arctan(z) = z'(x) / (1 + z^2)，而 "
     "z'(x) = pi/2 * alpha"),
    (check_atan_derivative, lambda x, a: l03.atan_derivative(x, a).float(),
     "✗ check_atan_derivative：第 4 个测试用例（形状为 [2, 3] 的 float64 张量 x，alpha = 1），"
     "输入 x=[-1, -0.6, -0.2, 0.2, 0.6, 1]（形状 [2, 3]）, alpha=1：数值正确，但数据类型不对："
     "应保持 x 的数据类型（这里是 float64），直接用张量运算从 x 计算，不要转换类型"),
    (check_spike_function, l03.spike_class(forward=lambda x: (x >= 0).to(x.dtype)),
     "✗ check_spike_function：第 1 个测试用例（forward 是精确的阶跃函数，x = 0 时没有脉冲），"
     "输入 test='forward', x=[-2, -1, -0.3, -0.05, 0, 0.05, 0.3, 1, ...]（形状 [9]）：x = 0 "
     "不算高于阈值：阶跃函数是 x > 0，而不是 x >= 0"),
    (check_spike_function, l03._backward(lambda x, g: g * torch.zeros_like(x)),
     "✗ check_spike_function：第 3 个测试用例（backward：替代导数，在阈值处最大），输入 "
     "test='derivative', x=[-2, -1, -0.3, -0.05, 0, 0.05, 0.3, 1, ...]（形状 [9]）：你的 "
     "backward 返回全零：这是阶跃函数真正的导数，也就是死神经元问题；请返回一个在 x = 0 附近"
     "较大的替代导数"),
    (check_bptt_grad, l03._bptt(reset_path=False),
     "✗ check_bptt_grad：第 1 个测试用例（第 0 步发放脉冲，随后复位，atan 替代函数），输入 "
     "x=[1.5, 0.4, 1.2], w=1, beta=0.8, theta=1.2, derivative=atan(alpha=2).derivative："
     "缺少复位路径：U[t] 中含有 -theta * S[t-1]，而 S[t-1] 通过替代函数依赖于 U[t-1]，所以 "
     "dU[t]/dU[t-1] = beta - theta * g[t-1]"),
    (check_bptt_grad, l03._bptt(compare=">="),
     "✗ check_bptt_grad：第 4 个测试用例（U[0] 恰好等于阈值，没有脉冲），输入 x=[2, 1.5, 0.5], "
     "w=0.5, beta=0.5, theta=1, derivative=fast_sigmoid(slope=5).derivative：U[t] 恰好等于 "
     "theta 时没有脉冲（S = H(U - theta)，H(0) = 0）：前向传播中应使用 >，而不是 >="),
]


@pytest.mark.parametrize("check, answer, line", CHINESE_LINES)
def test_named_mistakes_print_their_whole_chinese_line(check, answer, line, chinese, capsys):
    passed, out = run(check, answer, capsys)
    assert passed is False
    assert out == line


# ------------------------------------------------------------------ diagnoses with numbers

def test_rate_code_diagnoses_in_chinese(chinese, capsys):
    _, out = run(check_rate_code, lambda images, n, gain: torch.full((n, *images.shape), 0.25),
                 capsys)
    assert ("每个元素都应是脉冲（1.0）或无脉冲（0.0），"
            "而你的结果中有 [0.25, 0.25, 0.25, 0.25]") in out
    assert_chinese(out)
    _, out = run(check_rate_code, lambda images, n, gain: [0.0] * n, capsys)
    assert "应返回由脉冲组成的 torch.Tensor，而你返回的是 list。" in out
    _, out = run(check_rate_code, lambda images, n, gain: torch.zeros(n, 1), capsys)
    assert "脉冲的形状应为 [7, 2, 3]（时间维在最前），而你的形状是 [7, 1]。" in out
    assert_chinese(out)


def test_the_independence_diagnosis_in_chinese(chinese, capsys):
    def pairs(images, num_steps, gain=1.0):  # on 400 pixels, two share every random number
        if images.numel() != 400:
            return torch.bernoulli((gain * images).expand(num_steps, *images.shape))
        coins = (torch.rand(num_steps, 200) < 0.5).float()
        return coins.repeat_interleave(2, dim=1).view(num_steps, *images.shape)

    passed, out = run(check_rate_code, pairs, capsys)
    assert passed is False
    assert ("第 6 个测试用例（400 个灰度相同的像素彼此独立地发放），输入 images=[0.5, 0.5, 0.5, "
            "0.5, 0.5, 0.5, 0.5, 0.5, ...]（形状 [20, 20]）, num_steps=800, gain=1：400 个取值为 "
            "0.5 的像素应彼此独立地发放，这样每个时间步它们的脉冲计数约为 200 ± 10；"
            "你的是 [") in out
    assert "倍）。" in out
    assert_chinese(out)


def test_latency_and_lif_generic_lines_carry_the_numbers_and_a_chinese_hint(chinese, capsys):
    _, out = run(check_latency_code, l01.LATENCY_WRONG["times doubled"][0], capsys)
    assert ("各像素的脉冲时间步应为 [1, 3, 5]，而你的是 [2, 5, None]（每个像素一项："
            "它发放的时间步，不发放则为 None）。"
            "提示：从 U(t) = x (1 - exp(-t / tau)) = threshold 解出 t") in out
    assert_chinese(out)
    _, out = run(check_lif_layer, l02.lif_double_reset, capsys)
    assert ("膜电位应为 [0.3, 0.57, 0.813, 1.032, 0.2285, 0.5057, 0.7551, 0.9796]（形状 [8, 1]），"
            "而你的是 [0.3, 0.57, 0.813, 1.032, -0.7715, -0.3943, -0.05489, 0.2506]"
            "（形状 [8, 1]）。"
            "提示：从 U[-1] = 0 出发：") in out
    assert_chinese(out)
    _, out = run(check_lif_layer, lambda *a: l02.lif_loop(*a)[0], capsys)
    assert "应返回元组 (spikes, membrane)，而你的是 [0, 0, 0, 0, 0, 0]（形状 [6, 1]）。" in out


def test_beta_generic_lines_carry_the_numbers(chinese, capsys):
    _, out = run(check_beta, lambda tau, dt: 0.9, capsys)
    assert out == ("✗ check_beta：第 1 个测试用例（tau = 5 ms，dt = 1 ms），输入 tau=0.005, "
                   "dt=0.001：beta 应为 0.8187307530779818，而你的是 0.9（相对误差 9.9e-02；允许："
                   "1e-06）。提示：对 U(t) = U(0) e^(-t/tau)，比较 U(t + dt) 和 U(t)")
    _, out = run(check_beta, lambda tau, dt: None, capsys)
    assert "应返回 Python float，而你的是 None（NoneType）。" in out
    assert_chinese(out)


def test_lesson03_generic_lines_carry_the_numbers(chinese, capsys):
    _, out = run(check_bptt_grad, lambda *args: 2 * l03.bptt_grad_w(*args), capsys)
    assert out.endswith("：dL/dw 的值应为 1.68417，而你的是 3.36834。")
    assert_chinese(out)
    _, out = run(check_bptt_grad, lambda *args: str(l03.bptt_grad_w(*args)), capsys)
    assert out.endswith("：dL/dw 的值应是一个数（float），而你返回的是 '1.684169190538118'。")
    _, out = run(check_atan_derivative, lambda x, a: l03.atan_derivative(x, a).mean(), capsys)
    assert "导数的形状应为 [7]，而你的形状是 []。提示：对 1/2 + arctan(z)/pi 求导" in out
    assert_chinese(out)
    off_centre = l03.SPIKE_CATALOGUE[-1][0]
    _, out = run(check_spike_function, off_centre, capsys)
    assert ("替代导数应在 x = 0 处最大、远离 0 处较小，而你的导数在 x = [-2, -1, -0.3, -0.05, 0, "
            "0.05, 0.3, 1, ...]（形状 [9]） 处为 [0, 0, 0.5, 0.75, 0.8, 0.85, 0.9, 0.2, ...]"
            "（形状 [9]）。") in out
    assert_chinese(out)


def test_odd_calls_are_answered_in_chinese(chinese, capsys):
    _, out = run(check_spike_function, "MySpike", capsys)
    assert out == ("✗ check_spike_function：请传入你的类本身（`torch.autograd.Function` 的子类），"
                   "例如 check_spike_function(MySpike)；你传入的是 'MySpike'")
    _, out = run(check_beta, 0.5, capsys)
    assert out.startswith("✗ check_beta：请传入函数本身")
    for check in (check_rate_code, check_latency_code, check_lif_layer, check_bptt_grad):
        _, out = run(check, lambda *a: (_ for _ in ()).throw(NotImplementedError), capsys)
        assert out.startswith(f"… {check.__name__}：") and english_prose(out) == [], out
        _, out = run(check, lambda *a: float("nan"), capsys)
        assert "NaN" in out and english_prose(out) == [], out


def test_a_slow_answer_is_stopped_with_chinese_sentences_and_no_space_after_the_full_stop(
        chinese, capsys, monkeypatch):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.2)

    def endless(tau, dt):
        while True:
            pass

    _, out = run(check_beta, endless, capsys)
    assert "超过了 0.2 秒的时间限制" in out and english_prose(out) == [], out
    assert judge.sentences("一。", "二。") == "一。二。"


# ------------------------------------------------------------------ judge.py, shared sentences

def test_judge_sentences_in_chinese(chinese):
    want = torch.zeros(2, 3)
    assert (judge.compare_tensor([0.0], want, "膜电位")
            == "膜电位应为 torch.Tensor，而你返回的是 list")
    assert (judge.compare_tensor(torch.zeros(3), want, "膜电位")
            == "膜电位的形状应为 [2, 3]，而你的形状是 [3]")
    assert (judge.compare_tensor(torch.ones(2, 3), want, "膜电位")
            == "膜电位应为 [0, 0, 0, 0, 0, 0]（形状 [2, 3]），"
               "而你的是 [1, 1, 1, 1, 1, 1]（形状 [2, 3]）")
    size = judge.judge_int(3, "输出的边长", "像素的个数")
    assert size(3) is None
    assert size(4) == "输出的边长应为 3，而你的是 4"
    assert size(2.5) == "输出的边长应为 3，而你的是 2.5"
    assert size(3.0) == "应返回一个 int（像素的个数），而你返回的是浮点数 3.0"
    assert size(torch.tensor(3)) == "应返回一个 int（像素的个数），而你返回的是张量 3"
    assert size("3") == "应返回一个 int（像素的个数），而你返回的是一个 str 对象"


def test_judge_sentences_in_english_are_unchanged():
    want = torch.zeros(2, 3)
    assert (judge.compare_tensor([0.0], want, "the membrane")
            == "the membrane should be a torch.Tensor, but you returned a list")
    assert (judge.compare_tensor(torch.zeros(3), want, "the membrane")
            == "the membrane should have shape [2, 3], but yours has shape [3]")
    assert (judge.compare_tensor(torch.ones(2, 3), want, "the membrane")
            == "the membrane should be [0, 0, 0, 0, 0, 0] (shape [2, 3]), "
               "but yours is [1, 1, 1, 1, 1, 1] (shape [2, 3])")
    size = judge.judge_int(3, "the size", "a number of pixels")
    assert size(4) == "the size should be 3, but yours is 4"
    assert size(3.0) == "return an int (a number of pixels), but yours is the float 3.0"
    assert size(torch.tensor(3)) == "return an int (a number of pixels), but yours is the tensor 3"
    assert size("3") == "return an int (a number of pixels), but yours is a str"
    assert judge.sentences("One.", "", "Two.") == "One. Two."


# ------------------------------------------------------------------ English unchanged

ENGLISH_LINES = [
    (check_beta, lambda tau, dt: 0.9,
     "✗ check_beta: case 1 (tau = 5 ms, dt = 1 ms) with tau=0.005, dt=0.001: beta should be "
     "0.8187307530779818, but yours is 0.9 (off by 9.9e-02 of beta; allowed: 1e-06). Hint: "
     "compare U(t + dt) with U(t) for U(t) = U(0) e^(-t/tau)"),
    (check_beta, lambda tau, dt: 1 - dt / tau,
     "✗ check_beta: case 1 (tau = 5 ms, dt = 1 ms) with tau=0.005, dt=0.001: that is Euler's "
     "beta, 1 - dt/tau, the first two terms of the Taylor series: the exact decay solves "
     "U(t) = U(0) e^(-t/tau) over one step"),
    (check_latency_code, l01.LATENCY_WRONG["times doubled"][0],
     "✗ check_latency_code: case 1 (brighter pixels fire earlier, each once) with "
     "images=[1, 0.5, 0.3], num_steps=10, tau=5, threshold=0.2: the spike steps should be "
     "[1, 3, 5], but yours are [2, 5, None] (one entry per pixel: the step it fires at, None if "
     "silent). Hint: solve U(t) = x (1 - exp(-t / tau)) = threshold for t"),
    (check_lif_layer, l02.lif(clip=True),
     "✗ check_lif_layer: case 6 (inhibition: a negative input pushes the membrane below rest) "
     "with currents=[0.75, 0.5, -1.5, -0.5, 1, 1, 1] (shape [7, 1]), beta=0.75, threshold=1: "
     "your membrane never goes below 0: nothing in the update clips it; a negative (inhibitory) "
     "input pushes U below rest"),
    (check_bptt_grad, lambda *args: 2 * l03.bptt_grad_w(*args),
     "✗ check_bptt_grad: case 1 (a spike at step 0, then a reset, atan surrogate) with "
     "x=[1.5, 0.4, 1.2], w=1, beta=0.8, theta=1.2, derivative=atan(alpha=2).derivative: dL/dw "
     "should be 1.68417, but yours is 3.36834."),
    (check_rate_code, l01.rate_bernoulli, "✓ check_rate_code: passed 6 cases"),
]


@pytest.mark.parametrize("check, answer, line", ENGLISH_LINES)
def test_the_english_lines_are_unchanged(check, answer, line, capsys):
    assert run(check, answer, capsys)[1] == line
