"""The dashboard page: Mesa's SolaraViz with povsim's levers, plots and a household inspector.

Run it with `povsim dashboard` (or `solara run povsim.dashboard.app`). Each browser session
gets its own model. The page has two tabs: the district (rates, transitions, spending,
deprivations, communes, the monthly series) and one household (its history and profile).

The levers in the sidebar are Mesa model parameters: like every SolaraViz parameter, a
changed lever applies when Reset rebuilds the model. The scenario selector above them
starts over from another scenario file, with the levers at that scenario's values.
"""

from __future__ import annotations

import calendar
import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from povsim.dashboard import figures
from povsim.dashboard.model import DEFAULT_HOUSEHOLDS, LEVERS, DashboardModel, load_base, model_params
from povsim.policies import INSTRUMENT_IDS
from povsim.scenario import InputError, Scenario
from povsim.standards import Status

SCENARIO_ENV = "POVSIM_DASHBOARD_SCENARIO"
BUILT_IN = "built-in baseline"
TITLE = "povsim: poverty and relapse in Son Duong district"
FIND = {
    "any household": lambda m: np.ones(m.households.count, bool),
    "relapsed": lambda m: m.households.relapse_count > 0,
    "escaped": lambda m: m.households.escape_year >= 0,
    "poor now": lambda m: m.households.status == Status.POOR,
    "hit by a disaster": lambda m: m.households.disaster_hit_count > 0,
    "seriously ill": lambda m: m.households.illness_count > 0,
}
HELP = (
    "Move the levers, then press <b>Reset</b> to rebuild the district with them (Mesa rebuilds the "
    "model from its parameters), and <b>Step</b> (one month) or <b>&#9654;</b> to run it. Reviews are "
    "held every December. The same seed brings the same shocks, so a lever's effect is not noise."
)

# Each browser session has its own value of these (Solara scopes reactive variables per session).
selected_household = solara.reactive(0)


def scenario_choices(scenario_file: str | None = None) -> dict[str, str | None]:
    """The scenarios the page can start from: label -> file (None: the built-in baseline).

    The file given to `povsim dashboard --scenario` (or in POVSIM_DASHBOARD_SCENARIO) comes
    first, then the other TOML files of its folder; without one, the built-in baseline and the
    files in `./scenarios`.
    """
    scenario_file = scenario_file if scenario_file is not None else os.environ.get(SCENARIO_ENV)
    choices: dict[str, str | None] = {}
    if scenario_file:
        first = Path(scenario_file)
        choices[_label(first)] = str(first)
        folder = first.parent
    else:
        choices[BUILT_IN] = None
        folder = Path("scenarios")
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            if str(path) not in choices.values():
                choices[_label(path)] = str(path)
    return choices


def _label(path: Path) -> str:
    """A scenario file as the selector shows it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def use_figure(build: Callable[[], Figure], dependencies: list[Any]) -> None:
    """Show a matplotlib figure, rebuilt and re-encoded only when `dependencies` change."""
    figure = solara.use_memo(build, dependencies=dependencies)
    solara.FigureMatplotlib(figure, dependencies=dependencies, format="png")


def show_html(text: str, classes: list[str] | None = None, size: str = "13px") -> None:
    """A block of HTML built from escaped text (solara.Markdown would load KaTeX, which is not offline)."""
    solara.HTML(tag="div", unsafe_innerHTML=text, classes=classes or [], style={"font-size": size})


def html_table(header: tuple[str, str], rows: list[tuple[str, str]]) -> str:
    """A two-column HTML table of escaped text, the second column right-aligned."""
    right = "text-align:right;padding-left:12px"
    cells = "".join(
        f"<tr><td>{html.escape(a)}</td><td style='{right}'>{html.escape(b)}</td></tr>" for a, b in rows
    )
    head = (
        f"<tr><th style='text-align:left'>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>"
    )
    return f"<table style='margin-top:6px;font-size:12px'>{head}{cells}</table>"


def lever_rows(model: DashboardModel) -> list[tuple[str, str]]:
    """Each lever's label and the value this model runs with."""
    rows = []
    for lever in LEVERS:
        if lever.name == "newly_escaped_support":
            serving = [
                i.replace("_", " ")
                for i in INSTRUMENT_IDS
                if "newly_escaped" in getattr(model.params.instruments, i).eligible_groups
                and getattr(model.params.instruments, i).enabled
            ]
            value = ", ".join(serving) if serving else "none"
        else:
            read = lever.read(model.params)
            if read is None:
                value = "no budget cap"
            elif isinstance(read, bool):
                value = "yes" if read else "no"
            elif isinstance(read, float):
                value = f"{read:,.3g}" if read < 1 else f"{read:,.1f}"
            else:
                value = str(read)
        rows.append((lever.label, value))
    return rows


def summary_html(model: DashboardModel) -> str:
    """Where the run is, the latest review, the totals so far, the step time and the levers in force."""
    review = model.latest_review
    when = f"{calendar.month_name[model.month]} {model.year}" if model.months_elapsed else "December 2021"
    observed = figures.observed_rates(model).get(review["year"])
    seen = f" (observed {100 * observed:.2f} %)" if observed is not None else ""
    later = model.reviews[1:]
    totals = {key: sum(r[key] for r in later) for key in ("escaped", "relapsed", "newly_poor")}
    step_ms = 1000 * model.last_step_seconds
    spent_bn = model.ledger.vnd.sum() / 1e9
    return (
        f"<div class='povsim-when'><b>{when}</b>: month {model.months_elapsed} of {model.total_months}, "
        f"{model.households.count:,} households, seed {model.master_seed}, "
        f"scenario {html.escape(model.params.name)}; last month took {step_ms:.1f} ms</div>"
        f"<div>End-{review['year']} review ({html.escape(str(review['standard']))}): "
        f"poor {100 * review['poor_rate']:.1f} %, near-poor {100 * review['near_poor_rate']:.1f} %, "
        f"both {100 * review['poor_or_near_poor_rate']:.1f} %{seen}.</div>"
        f"<div>Since 2021: {totals['escaped']:,} escapes, {totals['relapsed']:,} relapses, "
        f"{totals['newly_poor']:,} newly poor; program spending VND {spent_bn:,.1f} bn.</div>"
        + "".join(f"<div style='color:#c0392b'>{html.escape(note)}</div>" for note in model.notes)
        + html_table(("lever in this run", ""), lever_rows(model))
    )


@solara.component
def SummaryView(model: DashboardModel) -> None:
    """The run at a glance: date, latest review, totals, step time and the levers it runs with."""
    update_counter.get()
    with solara.Column(classes=["povsim-summary"], style={"overflow-y": "auto", "height": "100%"}):
        show_html(summary_html(model))


@solara.component
def RatesView(model: DashboardModel) -> None:
    """The poor, near-poor and combined rates at each review, with the observed rates marked."""
    update_counter.get()
    with solara.Column(classes=["povsim-rates"]):
        use_figure(lambda: figures.rates_figure(model), [model, len(model.reviews)])


@solara.component
def TransitionsView(model: DashboardModel) -> None:
    """Escapes, relapses and newly poor households at each review."""
    update_counter.get()
    with solara.Column(classes=["povsim-transitions"]):
        use_figure(lambda: figures.transitions_figure(model), [model, len(model.reviews)])


@solara.component
def SpendingView(model: DashboardModel) -> None:
    """Program spending by instrument and year."""
    update_counter.get()
    spent = float(model.ledger.vnd.sum())
    with solara.Column(classes=["povsim-spending"]):
        use_figure(lambda: figures.spending_figure(model), [model, spent, model.year])


@solara.component
def DeprivationsView(model: DashboardModel) -> None:
    """Deprivations by indicator at the latest review."""
    update_counter.get()
    with solara.Column(classes=["povsim-deprivations"]):
        use_figure(lambda: figures.deprivations_figure(model), [model, len(model.reviews)])


@solara.component
def CommunesView(model: DashboardModel) -> None:
    """The communes side by side: a heat map of the targeted rate at each review."""
    update_counter.get()
    with solara.Column(classes=["povsim-communes"]):
        use_figure(lambda: figures.communes_figure(model), [model, len(model.reviews)])


def _monthly_axes(ax: Any) -> None:
    """Mesa's monthly plot, in the dashboard's size and units."""
    ax.figure.set_size_inches(*figures.SIZE)
    ax.figure.set_dpi(figures.DPI)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Each month: households below the line, and short of money", fontsize=10)
    ax.legend(["income below the line this month", "could not cover subsistence"], fontsize=7)


MonthlyView = make_plot_component(
    {"share_below_line_this_month": figures.COMBINED, "short_household_share": figures.POOR},
    post_process=_monthly_axes,
    page=1,
)


def _clamp(row: int, model: DashboardModel) -> int:
    return int(min(max(row, 0), model.households.count - 1))


@solara.component
def HouseholdInspector(model: DashboardModel) -> None:
    """The selected household's income against the line, its shocks, its status and support so far."""
    update_counter.get()
    row = _clamp(selected_household.value, model)
    with solara.Column(classes=["povsim-household"]):
        use_figure(lambda: figures.household_figure(model, row), [model, model.months_elapsed, row])


@solara.component
def HouseholdProfile(model: DashboardModel) -> None:
    """Pick a household (by number, or the next one that relapsed, escaped, ...); see its profile."""
    update_counter.get()
    row = _clamp(selected_household.value, model)
    find, set_find = solara.use_state("relapsed")
    message, set_message = solara.use_state("")

    def next_household() -> None:
        candidates = np.flatnonzero(FIND[find](model))
        if not candidates.size:
            set_message(f"no household is '{find}' yet")
            return
        later = candidates[candidates > row]
        selected_household.set(int(later[0] if later.size else candidates[0]))
        set_message("")

    state = model.households
    commune = model.communes.names[int(state.commune[row])]
    statuses = ", ".join(
        f"{r['year']}: {figures.STATUS_NAMES.get(int(s[row]), '?')}"
        for r, s in zip(model.reviews, model.status_history, strict=True)
    )
    support = model.ledger.household_vnd[row]
    escaped = f"escaped in {int(state.escape_year[row])}, " if state.escape_year[row] >= 0 else ""
    shocks = [(label, str(int(getattr(state, name)[row]))) for name, label in figures.TRACE_SHOCKS.items()]
    received = [
        (instrument.replace("_", " "), f"{support[i] / 1e6:,.2f}")
        for i, instrument in enumerate(INSTRUMENT_IDS)
        if support[i] > 0
    ] or [("none yet", "")]
    groups = [
        "urban" if state.urban[row] else "rural",
        *(["ethnic minority"] if state.ethnic_minority[row] else []),
        *(["remote"] if state.remote[row] else []),
    ]
    money = (
        f"savings VND {state.savings_vnd[row] / 1e6:,.1f} million, informal debt "
        f"{state.informal_debt_vnd[row] / 1e6:,.1f} million, preferential loans "
        f"{state.formal_debt_vnd[row] / 1e6:,.1f} million"
    )
    text = (
        f"<h3>Household {row:,}</h3>"
        f"<div>{html.escape(commune)} commune, {', '.join(groups)}; {int(state.size[row])} members "
        f"({int(state.n_16_59[row])} of working age); house type {int(state.house_type[row])} "
        f"(0 makeshift to 3 durable), {float(state.floor_area_m2[row]):.0f} m&sup2;.</div>"
        f"<div><b>Status at each review</b>: {statuses}.</div>"
        f"<div>{escaped}relapses: {int(state.relapse_count[row])}; {money}.</div>"
        + html_table(("shocks since 2021", "times"), shocks)
        + html_table(("support received", "VND million"), received)
    )
    with solara.Column(classes=["povsim-profile"], gap="4px", style={"overflow-y": "auto", "height": "100%"}):
        with solara.Row(gap="8px"):
            solara.InputInt(
                f"Household (0-{model.households.count - 1:,})",
                value=row,
                on_value=lambda value: selected_household.set(_clamp(int(value), model)),
                style={"max-width": "150px"},
            )
            solara.Select(
                "Find", values=list(FIND), value=find, on_value=set_find, style={"max-width": "170px"}
            )
            solara.Button("Next", on_click=next_household, color="primary", outlined=True)
        if message:
            solara.Text(message, style={"color": "#c0392b", "font-size": "12px"})
        show_html(text)


COMPONENTS: list[tuple[Callable[..., Any], int]] = [
    (SummaryView, 0),
    (RatesView, 0),
    (TransitionsView, 0),
    (SpendingView, 0),
    (CommunesView, 0),
    (DeprivationsView, 0),
    (HouseholdInspector, 1),
    (HouseholdProfile, 1),
    MonthlyView,
]


def dashboard(model: DashboardModel, params: dict[str, Any]) -> Any:
    """The SolaraViz element for a model and its parameters.

    Play waits 400 ms between months: with much shorter waits the stepping thread keeps the
    server too busy to send the redrawn page, which then shows only the last month.
    """
    return SolaraViz(model, components=list(COMPONENTS), model_params=params, name=TITLE, play_interval=400)


@solara.component
def Page() -> None:
    """The app: a scenario selector, then Mesa's SolaraViz for a model of that scenario."""
    choices = solara.use_memo(scenario_choices, [])
    choice, set_choice = solara.use_state(next(iter(choices)))
    error, set_error = solara.use_state("")
    loaded = solara.use_memo(dict, [])  # label -> Scenario, for this session

    def base_of(label: str) -> Scenario:
        if label not in loaded:
            loaded[label] = load_base(choices[label])
        return loaded[label]

    def choose(label: str) -> None:
        try:
            base_of(label)
        except InputError as problem:
            set_error(str(problem))
            return
        set_error("")
        set_choice(label)

    base = base_of(choice)
    model = solara.use_memo(
        lambda: DashboardModel(
            base_scenario=base, households=min(DEFAULT_HOUSEHOLDS, base.run.household_count)
        ),
        [choice],
    )
    with solara.Sidebar(), solara.Card("Scenario", classes=["povsim-scenario"]):
        solara.Select("Start from", values=list(choices), value=choice, on_value=choose)
        if error:
            solara.Error(error)
        show_html(HELP, size="12px")
    dashboard(model, model_params(base, choices[choice])).key(f"dashboard-{choice}")


page = Page
