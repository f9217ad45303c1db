"""povsim: an agent-based model of poverty dynamics in Son Duong district, Tuyen Quang, Vietnam."""

from povsim.model import PovertyModel
from povsim.scenario import InputError, Scenario, load_scenario

__all__ = ["InputError", "PovertyModel", "Scenario", "load_scenario"]
__version__ = "0.1.0"
