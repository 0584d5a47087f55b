"""bench/results.md is made of sections, one per benchmark, each headed ``## <title>: ...``.

A benchmark writes its own section with ``replace_section``: the section of that title is
replaced where it stands (or, the first time, added at the end), so a rerun updates the file
instead of adding a second copy, and git keeps the history.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


def replace_section(title: str, text: str, path: Path = RESULTS) -> None:
    """Put ``text`` (a section that starts with ``## <title>``) into ``path`` in place of the
    section whose heading starts with ``## <title>``, or at the end if there is none."""
    heading = "## " + title
    if _title(text.partition("\n")[0], heading) is None:
        raise ValueError(f"the section must start with {heading!r} and then ':', ',', ' (' or "
                         f"the line's end, got {text[:60]!r}")
    old = path.read_text() if path.exists() else ""
    lines = old.split("\n")
    start = next((i for i, line in enumerate(lines) if _title(line, heading)), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        tail = "\n".join(lines[end:])
        new = "\n".join(lines[:start]) + "\n" + text.rstrip("\n") + "\n" + (
            "\n" + tail if tail else "")
    path.write_text(new.lstrip("\n"))


def _title(line: str, heading: str) -> str | None:
    """``line`` if it is the heading ``## <title>`` (not a longer title that starts alike:
    "## Lesson 08" is not "## Lesson 08 neurons"), else None."""
    if line == heading or any(line.startswith(heading + end) for end in (":", ",", " (")):
        return line
    return None
