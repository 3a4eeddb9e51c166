"""A local stand-in for Amazon's Selling Partner API and LWA (SPEC §8.1): never deployed.

It answers as Amazon does — every response validates against Amazon's official models in
`local/amazon_models/` — so it cannot simply agree with the connector's bugs. Start it in-process
with `SimulatorServer(port=0).start()` or from a shell with `python -m local.simulator --port 8100`.
"""

from .clock import ManualClock, ScaledClock
from .core import APPLICATION_ID, LWA_CLIENT_ID, LWA_CLIENT_SECRET, SimConfig, Simulator
from .server import SimulatorServer

__all__ = [
    "APPLICATION_ID",
    "LWA_CLIENT_ID",
    "LWA_CLIENT_SECRET",
    "ManualClock",
    "ScaledClock",
    "SimConfig",
    "Simulator",
    "SimulatorServer",
]
