"""snnlab: helpers for an interactive course on spiking neural networks.

The modules, in the order the lessons use them:

- ``config``     quick mode, seeding, device choice
- ``data``       MNIST for the lessons
- ``encoding``   turning images into spike trains (rate, latency, delta)
- ``surrogate``  the spike function and its surrogate gradients
- ``neurons``    leaky integrate-and-fire neurons
- ``plot``, ``animate``, ``widgets``  pictures and interactive panels
- ``models``, ``training``, ``recipes``  networks, losses, the training loop
"""

__version__ = "0.1.0"
