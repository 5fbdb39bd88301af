"""The live observatory: collect, detect, alert and publish while data arrives.

`run_cycle` is one pass (collect → classify arrivals → count terms → rules → alerts →
delivery → due reports); `observe` repeats it. docs/observe.md describes the loop, every
rule and the config file.
"""

from __future__ import annotations

from govweibo.observe.alerts import KINDS, STATES, Alert, Finding, list_alerts, set_state
from govweibo.observe.config import ObserveConfig, load_config
from govweibo.observe.loop import CycleResult, observe, run_cycle

__all__ = [
    "KINDS",
    "STATES",
    "Alert",
    "CycleResult",
    "Finding",
    "ObserveConfig",
    "list_alerts",
    "load_config",
    "observe",
    "run_cycle",
    "set_state",
]
