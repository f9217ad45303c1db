"""Scenario files: the typed schema, loading with `extends` and overrides, and input errors."""

from povsim.scenario.errors import InputError, Problem
from povsim.scenario.loading import load_scenario, scenario_hash
from povsim.scenario.schema import Scenario

__all__ = ["InputError", "Problem", "Scenario", "load_scenario", "scenario_hash"]
