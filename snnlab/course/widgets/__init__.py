"""Interactive panels for the lessons: turn a knob, watch the spikes change.

One module per lesson (``lesson01`` ... ``lesson10``), as for the exercises, and
``panels``, the machinery they share. Every panel works the same way:

1. a ``draw(**settings) -> Figure`` function makes the picture for one setting of the knobs;
2. the picture for the default settings is shown once as a plain PNG, so a handout or a page
   without a running kernel still shows it; in a live notebook, as soon as the front end has
   drawn the panel, that copy is emptied (the panel shows the same picture, and updates it);
3. an ``ipywidgets.interactive`` panel with the sliders follows; each change re-draws the figure
   and shows it as a PNG inside the panel's Output area (``panel.out``).

Each panel function displays both and returns the panel (end the notebook line with ``;`` so
Jupyter does not show it twice). Nothing waits for input, so notebooks run top to bottom, also
in quick mode (``SNNLAB_QUICK=1``). The lessons call them as ``widgets.lif_explorer()``
and so on: every name below is importable from ``snnlab.course.widgets`` itself. A new lesson
adds its module, with its ``draw_*`` function and its panel function, and its names here.
"""

from snnlab.course.widgets.lesson01 import CODES, draw_encoding, encode, encoding_explorer
from snnlab.course.widgets.lesson02 import RESETS, draw_lif, lif_explorer, lif_response
from snnlab.course.widgets.lesson03 import (
    SURROGATES,
    draw_surrogate,
    make_surrogate,
    surrogate_explorer,
)
from snnlab.course.widgets.lesson04 import (
    MEMBRANE_FLOOR,
    draw_output_layer,
    output_explorer,
    run_network,
    vote_video,
)
from snnlab.course.widgets.lesson05 import (
    MAP_GAP,
    csnn_explorer,
    describe_layer,
    draw_csnn_layer,
    draw_firing_rates,
    feature_map_video,
    firing_statistics,
    firing_table,
    map_columns,
    mosaic,
    number_maps,
    show_maps,
)
from snnlab.course.widgets.lesson06 import (
    add_noise,
    autoencoder_explorer,
    draw_autoencoder,
    draw_spike_matrix,
    run_autoencoder,
)
from snnlab.course.widgets.lesson07 import (
    OFF_COLOUR,
    ON_COLOUR,
    draw_events,
    event_counts,
    event_explorer,
    event_rgb,
    event_video,
)
from snnlab.course.widgets.lesson08 import (
    NEURONS,
    STIMULI,
    draw_comparison,
    draw_neuron,
    firing_rates,
    intervals,
    make_neuron,
    neuron_explorer,
    neuron_names,
    neuron_response,
    stimulus,
)
from snnlab.course.widgets.lesson09 import (
    draw_stdp,
    pairing,
    pairing_run,
    receptive_fields,
    stdp_explorer,
)
from snnlab.course.widgets.lesson10 import (
    conversion_explorer,
    curves,
    draw_conversion,
    draw_if_rates,
    if_rates,
)
from snnlab.course.widgets.panels import DPI, panel, show, to_png

__all__ = [
    "DPI", "panel", "show", "to_png",
    "CODES", "encode", "draw_encoding", "encoding_explorer",  # lesson 01
    "RESETS", "lif_response", "draw_lif", "lif_explorer",  # lesson 02
    "SURROGATES", "make_surrogate", "draw_surrogate", "surrogate_explorer",  # lesson 03
    "MEMBRANE_FLOOR", "run_network", "draw_output_layer", "output_explorer",  # lesson 04
    "vote_video",
    "MAP_GAP", "describe_layer", "mosaic", "firing_statistics", "firing_table",  # lesson 05
    "draw_firing_rates", "draw_csnn_layer", "csnn_explorer", "feature_map_video",
    "map_columns", "number_maps", "show_maps",
    "add_noise", "run_autoencoder", "draw_spike_matrix", "draw_autoencoder",  # lesson 06
    "autoencoder_explorer",
    "ON_COLOUR", "OFF_COLOUR", "event_rgb", "event_video", "event_counts",  # lesson 07
    "draw_events", "event_explorer",
    "NEURONS", "STIMULI", "stimulus", "make_neuron", "neuron_response", "intervals",  # lesson 08
    "neuron_names", "draw_neuron", "draw_comparison", "firing_rates", "neuron_explorer",
    "pairing", "pairing_run", "draw_stdp", "stdp_explorer", "receptive_fields",  # lesson 09
    "if_rates", "draw_if_rates", "curves", "draw_conversion", "conversion_explorer",  # lesson 10
]
