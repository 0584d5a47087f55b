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
    if not text.startswith(heading):
        raise ValueError(f"the section must start with {heading!r}, got {text[:60]!r}")
    old = path.read_text() if path.exists() else ""
    start = 0 if old.startswith(heading) else old.find("\n" + heading)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        start = start + 1 if old[start] == "\n" else start
        end = old.find("\n## ", start + 1)
        new = old[:start] + text.rstrip("\n") + "\n" + (old[end:] if end >= 0 else "")
    path.write_text(new)
