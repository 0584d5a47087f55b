"""What the lessons need beyond the SNN library: training recipes and the ``train`` command
(``recipes``), interactive panels (``widgets``), exercise checkers (``exercises``, one module
per lesson), lab handouts (``handout``) and the environment check (``environment``)."""
