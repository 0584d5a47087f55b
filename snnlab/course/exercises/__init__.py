"""Exercise checkers, one module per lesson (``lesson01`` ... ``lesson06``), built on ``judge``.

In a notebook: ``from snnlab.course.exercises.lesson02 import check_lif_layer``.
"""
