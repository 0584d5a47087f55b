"""The lessons' experiments, one module per lesson (``lessonNN.py``): controls, seeds and
baselines, written out so that a student can read how each number in a lesson was made."""
