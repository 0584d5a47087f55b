"""What the checker tests of lessons 05-08 share: a wrong answer's verdict, one line that starts
with the cross and the case, and whether it names the mistake the catalogue says it makes."""

from __future__ import annotations


def verdict(check, answer, capsys) -> str:
    """The one line ``check`` prints for a wrong ``answer`` (which it must reject)."""
    assert check(answer) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ") and "\n" not in out, out
    return out


def assert_named(out: str, words: str | None, mistakes, generic: tuple[str, ...]) -> None:
    """``out`` names the mistake whose message holds ``words``, and no other; with ``words``
    None, the fallback shows what was expected and what came back, and names nothing."""
    said = [m.message for m in mistakes if m.message in out]
    if words is not None:
        assert words in out, out
        assert len(said) <= 1, out
    else:
        assert not said and any(g in out for g in generic), out


def assert_every_mistake_reached(check, wrong: dict, mistakes, capsys) -> None:
    """Every named mistake of ``check`` is said for at least one answer of the catalogue
    ``wrong`` (``{name: (answer, words)}``): none is dead."""
    messages = {m.message for m in mistakes}
    reached = set()
    for answer, words in wrong.values():
        if words is not None:
            out = verdict(check, answer, capsys)
            reached |= {m for m in messages if m in out}
    assert reached == messages
