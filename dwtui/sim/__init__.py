"""The simulator: a little world that speaks the real services' HTTP shapes over TLS on loopback.

It imports nothing of dwtui outside this package (see the import-linter contracts).
"""

from __future__ import annotations

from dwtui.sim.scenarios import SCENARIOS, scenario_names
from dwtui.sim.server import SNAPSHOT_PORT, SimServer, run_standalone

__all__ = ["SCENARIOS", "SNAPSHOT_PORT", "SimServer", "run_standalone", "scenario_names"]
