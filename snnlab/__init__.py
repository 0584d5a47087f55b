"""snnlab: a spiking neural network library to read, for an interactive course.

The modules, in the order the lessons use them (the README maps each to its lesson):

- ``encoding``     turning images into spike trains: rate, latency, delta (lesson 01)
- ``neurons``      leaky integrate-and-fire neurons, one step at a time (lesson 02)
- ``surrogate``    the spike function and its surrogate gradients (lesson 03)
- ``models``, ``losses``, ``training``, ``checkpoints``  networks, losses, the BPTT loop,
  trained networks on disk (lessons 04-06)
- ``events``, ``recurrent``, ``synops``  event-camera data, a recurrent LIF layer, operation
  counts (lesson 07)
- ``synaptic``, ``adaptive``  neurons with more state: a synaptic current, an adaptive
  threshold (lesson 08)
- ``stdp``, ``competitive``  spike-timing-dependent plasticity, and Diehl & Cook's unsupervised
  winner-take-all network (lesson 09)
- ``conversion``   a ReLU network turned into integrate-and-fire neurons, threshold balancing
  (lesson 10)
- ``data``, ``plot``, ``animate``, ``config``, ``checks``  MNIST, pictures, videos, quick mode,
  the shared argument checks
- ``bptt``         the fast path behind ``LIF.sequence``: optional reading

``snnlab.course`` holds what the lessons need beyond the library: recipes and the ``train``
command, widgets, exercise checkers, handouts and the two editions.
"""

__version__ = "0.1.0"
