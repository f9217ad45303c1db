"""Serve the dashboard: check the address, pick a free port, start the Solara server.

Solara's own `run` command does the serving (its Starlette app under uvicorn), with the
page `povsim.dashboard.app`. The page's JavaScript, CSS and fonts come from the
`solara-assets` package, so the dashboard works without access to a CDN.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from povsim.scenario import load_scenario
from povsim.scenario.errors import problem

APP = "povsim.dashboard.app"
INSTALL_HINT = (
    "pip install 'povsim[dashboard]' (or, in a clone: uv sync, which installs it with the dev tools)"
)


def check_installed() -> None:
    """Raise ImportError with the install command if the dashboard's extra is missing."""
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
    except ImportError as error:
        raise ImportError(f"the dashboard needs the optional 'dashboard' extra: {INSTALL_HINT}") from error


def choose_port(host: str, port: int | None) -> int:
    """`port` if it can be bound on `host`, else a free port when `port` is None or 0.

    Raises:
        InputError: the port is out of range or in use, or the host cannot be bound.
    """
    if port is not None and not 0 <= port <= 65535:
        raise problem("--port", "", "expected a port number from 1 to 65535 (0 or none: a free port)", port)
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise problem("--host", "", f"not an address this machine can serve on ({error})", host) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as error:
            if port:
                raise problem(
                    "--port", "", f"cannot listen on {host}:{port}: {error.strerror}", port
                ) from None
            raise problem("--host", "", f"cannot listen on it: {error.strerror}", host) from None
        return int(probe.getsockname()[1])


def serve(
    scenario_file: Path | None,
    host: str = "127.0.0.1",
    port: int | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Validate the scenario and the address, then serve the dashboard until interrupted.

    Args:
        scenario_file: the scenario to start from (None: the built-in baseline).
        host: address to listen on.
        port: port to listen on; None or 0 picks a free one.
        say: where the address is announced.

    Raises:
        InputError: a bad scenario file, host or port.
        ImportError: the `dashboard` extra is not installed.
    """
    scenario = load_scenario(scenario_file)
    port = choose_port(host, port)
    # Read by the app when a session starts. Solara's usage reporting is not wanted (and has
    # no network here): switch it off before Solara reads its settings.
    os.environ["POVSIM_DASHBOARD_SCENARIO"] = str(scenario_file) if scenario_file else ""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    check_installed()
    from solara.__main__ import run

    url = f"http://{host}:{port}"
    say(f"povsim dashboard: scenario {scenario.name!r} at {url}  (Ctrl+C stops it)")
    sys.stdout.flush()
    run.main(
        [APP, "--host", host, "--port", str(port), "--no-open", "--no-check-version", "--production"],
        standalone_mode=False,
    )
