"""What the lessons need beyond the SNN library: training recipes and the ``train`` command
(``recipes``), interactive panels (``widgets``), exercise checkers (``exercises``, one module
per lesson), lab handouts (``handout``) and the environment check (``environment``)."""

from snnlab.i18n import tr


def write_it_first(*names: str) -> None:
    """Say that this cell runs the student's ``names`` (functions or classes of the exercise
    above) and that they are not written yet: what a student edition's later cell prints,
    in the course's language, instead of failing with NotImplementedError."""
    shown = ", ".join(f"`{name}`" for name in names)
    print(tr("… this cell runs your {names}: write it in the exercise above, then run this "
             "cell again.").format(names=shown))
