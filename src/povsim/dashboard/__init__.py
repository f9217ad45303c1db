"""The interactive dashboard: Mesa's SolaraViz on top of `PovertyModel`.

`povsim.dashboard.model` (the model the dashboard drives, its levers and the household
trace) and `povsim.dashboard.figures` (the plots) need only povsim's own dependencies. The
page itself (`povsim.dashboard.app`) and the server (`povsim.dashboard.server`) need the
optional `dashboard` extra: `pip install 'povsim[dashboard]'`.
"""

from povsim.dashboard.model import DEFAULT_HOUSEHOLDS, LEVERS, DashboardModel, model_params

__all__ = ["DEFAULT_HOUSEHOLDS", "LEVERS", "DashboardModel", "model_params"]
