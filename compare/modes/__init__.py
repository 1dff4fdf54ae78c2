"""Push against polling, measured (issue 24): how each runtime keeps the café's screens current.

For one runtime at a time, in its envelope: order trackers, the pickup board and the barista's
queue kept current first by polling at the pages' own intervals (the census), then by the
runtime's push transport (``GET /live``: server-sent events or a WebSocket), while a barista
moves orders on at a fixed rate; then a phase with many more subscribers held. The notice delay
is measured per (change, tracker) from the change's answer to the tracker seeing it
(``compare.modes.ledger``); the clients are in ``compare.modes.clients``, the phases in
``compare.modes.phase``.
"""

from compare.modes.phase import ModesConfig, measure_modes

__all__ = ["ModesConfig", "measure_modes"]
