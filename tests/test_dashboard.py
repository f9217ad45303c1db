"""The dashboard: levers to scenario values, the household trace, figures, the page under `solara.render`.

The real-browser test is in test_dashboard_browser.py.
"""

import inspect
import time

import numpy as np
import pytest

from conftest import SCENARIOS
from povsim import InputError, PovertyModel
from povsim.cli import main
from povsim.dashboard import DEFAULT_HOUSEHOLDS, LEVERS, DashboardModel, model_params
from povsim.dashboard import figures as dashboard_figures
from povsim.dashboard.model import EXTENDED_INSTRUMENTS, TRACE_SHOCKS
from povsim.model import replicate_seed
from povsim.policies import INSTRUMENT_IDS

solara = pytest.importorskip("solara", reason="the dashboard extra is not installed: uv sync installs it")
ipyvuetify = pytest.importorskip("ipyvuetify")
ipywidgets = pytest.importorskip("ipywidgets")

BASELINE = SCENARIOS / "baseline.toml"
SMALL = 1_500


@pytest.fixture(scope="module")
def stepped():
    """A small dashboard model run to the end-2024 review (36 months)."""
    model = DashboardModel(base_scenario=BASELINE, households=SMALL)
    for _ in range(36):
        model.step()
    return model


# --- levers -------------------------------------------------------------------------------------


def test_levers_set_the_scenario_values(baseline):
    model = DashboardModel(
        base_scenario=baseline,
        households=SMALL,
        loan_budget_bn_vnd=120.0,
        loan_size_million_vnd=80.0,
        housing_budget_bn_vnd=10.0,
        near_poor_insurance=True,
        newly_escaped_support="extended",
        newly_escaped_years=5,
        exclusion_error_share=0.25,
        inclusion_error_share=0.0,
        flood_prob_per_month=0.1,
        landslide_prob_per_month=0.0,
        storm_prob_per_month=0.05,
        disaster_household_share=0.5,
        disaster_crop_loss_share=0.8,
        illness_cost_million_vnd=20.0,
    )
    p = model.params
    loans = p.instruments.preferential_loans
    assert loans.annual_budget_vnd == pytest.approx(120e9)
    assert loans.amount_vnd_per_unit == pytest.approx(80e6)
    assert p.instruments.housing_support.annual_budget_vnd == pytest.approx(10e9)
    assert "near_poor" in p.instruments.health_insurance.eligible_groups
    for instrument in EXTENDED_INSTRUMENTS:
        assert "newly_escaped" in getattr(p.instruments, instrument).eligible_groups
    assert {getattr(p.instruments, i).newly_escaped_max_years for i in INSTRUMENT_IDS} == {5}
    assert (p.targeting.exclusion_error_share, p.targeting.inclusion_error_share) == (0.25, 0.0)
    d = p.disasters
    assert (d.flood_prob_per_month, d.landslide_prob_per_month, d.storm_prob_per_month) == (0.1, 0.0, 0.05)
    assert (d.affected_household_share, d.crop_loss_share) == (0.5, 0.8)
    assert p.shocks.illness_treatment_cost_vnd == pytest.approx(20e6)
    assert model.households.count == SMALL
    # The ledger's budgets follow the levers.
    assert model.ledger.budgets_vnd["preferential_loans"] == pytest.approx(120e9 * p.district_scale)


def test_levers_at_none_keep_the_scenario(baseline):
    model = DashboardModel(base_scenario=baseline, households=SMALL)
    assert model.params.instruments == baseline.instruments
    assert model.params.disasters == baseline.disasters
    assert model.params.targeting == baseline.targeting


def test_newly_escaped_none_removes_the_group_everywhere(baseline):
    model = DashboardModel(base_scenario=baseline, households=SMALL, newly_escaped_support="none")
    for instrument in INSTRUMENT_IDS:
        assert "newly_escaped" not in getattr(model.params.instruments, instrument).eligible_groups
    assert "newly_escaped" in baseline.instruments.preferential_loans.eligible_groups


def test_switching_near_poor_insurance_off_removes_only_that_group(baseline):
    on = DashboardModel(base_scenario=baseline, households=SMALL, near_poor_insurance=True)
    off = DashboardModel(base_scenario=on.params, households=SMALL, near_poor_insurance=False)
    assert off.params.instruments.health_insurance.eligible_groups == tuple(
        baseline.instruments.health_insurance.eligible_groups
    )


@pytest.mark.parametrize(
    ("levers", "key"),
    [
        ({"loan_size_million_vnd": 500.0}, "amount_vnd_per_unit"),
        ({"exclusion_error_share": 1.5}, "exclusion_error_share"),
        ({"newly_escaped_support": "always"}, "newly_escaped_support"),
        ({"rng": "twelve"}, "seed"),
        ({"rng": -3}, "seed"),
        ({"households": 10}, "household_count"),
    ],
)
def test_bad_levers_raise_input_error_naming_the_key(levers, key):
    with pytest.raises(InputError, match=key):
        DashboardModel(households=levers.pop("households", SMALL), **levers)


def test_a_mistyped_seed_in_the_page_falls_back_and_is_reported(baseline):
    model = DashboardModel(base_scenario=baseline, households=SMALL, rng="12a", lenient_seed=True)
    assert model.master_seed == baseline.run.master_seed
    assert model.notes == ["expected a whole number of 0 or more: '12a'; the scenario's seed is used"]
    assert DashboardModel(base_scenario=baseline, households=SMALL, rng="7", lenient_seed=True).notes == []


def test_seed_runs_replicate_zero_of_the_master_seed(baseline):
    text = DashboardModel(base_scenario=baseline, households=SMALL, rng=" 42 ")
    plain = PovertyModel(scenario=baseline, households=SMALL, rng=replicate_seed(42, 0))
    for _ in range(13):
        text.step()
        plain.step()
    assert text.master_seed == 42
    np.testing.assert_array_equal(text.households.status, plain.households.status)
    assert text.reviews == plain.reviews
    default = DashboardModel(base_scenario=baseline, households=SMALL)
    assert default.master_seed == baseline.run.master_seed


def test_model_params_are_keywords_of_the_model_and_start_at_the_scenario(baseline):
    from mesa.visualization.solara_viz import _check_model_params

    params = model_params(baseline, BASELINE)
    _check_model_params(DashboardModel.__init__, params)  # raises on an unknown or missing keyword
    signature = inspect.signature(DashboardModel.__init__).parameters
    assert set(params) <= set(signature)
    assert "scenario" not in signature  # SolaraViz passes its own Scenario object under that name
    assert params["households"]["value"] == DEFAULT_HOUSEHOLDS
    assert params["loan_budget_bn_vnd"]["value"] * 1e9 == pytest.approx(
        baseline.instruments.preferential_loans.annual_budget_vnd
    )
    assert params["rng"]["value"] == str(baseline.run.master_seed)
    assert params["lenient_seed"] is True  # fixed: a typo in the seed box is shown, not raised
    assert {lever.name for lever in LEVERS} <= set(params)
    # What Reset builds from the initial parameters is the scenario itself.
    initial = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    rebuilt = DashboardModel(**{**initial, "households": SMALL})
    assert rebuilt.params.instruments == baseline.instruments
    assert rebuilt.params.shocks == baseline.shocks


def test_a_default_step_is_well_under_100_ms(baseline):
    model = DashboardModel(base_scenario=baseline)
    assert model.households.count == DEFAULT_HOUSEHOLDS
    times = []
    for _ in range(24):
        started = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - started)
    assert np.median(times) < 0.05, f"median step {1000 * np.median(times):.1f} ms"
    assert model.last_step_seconds > 0


# --- household trace ------------------------------------------------------------------------------


def test_trace_records_income_support_and_shocks(baseline):
    model = DashboardModel(base_scenario=baseline, households=SMALL)
    incomes = [model.households.income_vnd_per_person_month.copy()]
    for _ in range(14):
        model.step()
        incomes.append(model.households.income_vnd_per_person_month.copy())
    trace = model.trace
    assert trace.months == 14
    np.testing.assert_allclose(trace.income_vnd_per_person_month[:15], np.array(incomes), rtol=1e-6)
    np.testing.assert_allclose(trace.support_vnd[14], model.ledger.household_vnd.sum(axis=1), rtol=1e-6)
    for i, name in enumerate(TRACE_SHOCKS):
        struck_months = ((trace.shocks[1:15] >> i) & 1).sum(axis=0)
        # A month with a shock adds at least one to its count (a disaster and an illness can
        # both strike in a month; two illnesses in one month count once in the trace).
        assert (struck_months <= getattr(model.households, name)).all()
        assert ((struck_months > 0) == (getattr(model.households, name) > 0)).all()
    history = trace.household(7)
    assert len(history["month"]) == 15
    assert set(TRACE_SHOCKS.values()) <= set(history)


# --- figures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        dashboard_figures.rates_figure,
        dashboard_figures.transitions_figure,
        dashboard_figures.spending_figure,
        dashboard_figures.deprivations_figure,
        dashboard_figures.communes_figure,
        lambda model: dashboard_figures.household_figure(model, 3),
    ],
)
def test_figures_draw_at_the_start_and_after_reviews(build, stepped):
    fresh = DashboardModel(base_scenario=BASELINE, households=SMALL)
    for model in (fresh, stepped):
        figure = build(model)
        assert figure.axes
        figure.canvas.draw()


def test_commune_rates_match_the_review(stepped):
    years, rates = dashboard_figures.commune_rates(stepped)
    assert years == [2021, 2022, 2023, 2024]
    counts = np.bincount(stepped.households.commune, minlength=stepped.communes.count)
    overall = (rates * counts[:, None]).sum(axis=0) / counts.sum()
    expected = [r["poor_or_near_poor_rate"] for r in stepped.reviews]
    np.testing.assert_allclose(overall, expected, rtol=1e-9)


# --- the page --------------------------------------------------------------------------------------


def render_page():
    from povsim.dashboard import app

    @solara.component
    def Wrapped():
        with solara.AppLayout():
            app.Page()

    Wrapped.__doc__ = "The page in Solara's app layout, as the server shows it."
    box, rc = solara.render(Wrapped(), handle_error=False)
    return box.children[0], rc


def descendants(widget):
    """A widget and everything under it, including the items of SolaraViz's grid layout."""
    yield widget
    for name in ("children", "items"):
        value = getattr(widget, name, None)
        for child in value if isinstance(value, list | tuple) else []:
            if isinstance(child, ipywidgets.Widget):
                yield from descendants(child)


def card(page, css_class):
    """The one component of the page marked with a CSS class."""
    found = [
        w
        for w in descendants(page)
        if isinstance(w, ipyvuetify.Sheet) and css_class in (w.class_ or "").split()
    ]
    assert len(found) == 1, css_class
    return found[0]


def images(page, css_class):
    found = [w for w in descendants(card(page, css_class)) if isinstance(w, ipywidgets.Image)]
    assert len(found) == 1, css_class
    return bytes(found[0].value)


def text_of(page, css_class):
    return " ".join(
        w.unsafe_innerHTML for w in descendants(card(page, css_class)) if isinstance(w, solara.widgets.HTML)
    )


def summary(page):
    return text_of(page, "povsim-summary")


def test_page_renders_steps_and_resets_with_a_moved_slider(monkeypatch):
    monkeypatch.setenv("POVSIM_DASHBOARD_SCENARIO", str(BASELINE))
    page, rc = render_page()
    assert "month 0 of 108" in summary(page)
    assert f"{DEFAULT_HOUSEHOLDS:,} households" in summary(page)
    before = {c: images(page, c) for c in ("povsim-spending", "povsim-rates", "povsim-communes")}

    rc.find(ipyvuetify.Btn, children=["Step"]).widget.click()
    assert "month 1 of 108" in summary(page)
    # January: health insurance cards and electricity support are paid, so spending changes;
    # the rates and the communes change only at a review.
    assert images(page, "povsim-spending") != before["povsim-spending"]
    assert images(page, "povsim-rates") == before["povsim-rates"]

    # Move the households slider and the loan budget, then Reset: the new model uses them.
    rc.find(ipyvuetify.Slider, label="Households").widget.v_model = 2_000
    rc.find(ipyvuetify.Slider, label="Loan budget (VND bn/year)").widget.v_model = 150.0
    rc.find(ipyvuetify.Btn, children=["Reset"]).widget.click()
    text = summary(page)
    assert "month 0 of 108" in text
    assert "2,000 households" in text
    assert "150.0" in text  # the loan budget lever in this run

    for _ in range(12):
        rc.find(ipyvuetify.Btn, children=["Step"]).widget.click()
    assert "End-2022 review" in summary(page)
    assert images(page, "povsim-rates") != before["povsim-rates"]
    assert images(page, "povsim-communes") != before["povsim-communes"]


def test_household_inspector_finds_a_household(monkeypatch):
    monkeypatch.setenv("POVSIM_DASHBOARD_SCENARIO", str(BASELINE))
    page, rc = render_page()
    rc.find(ipyvuetify.Tabs).widget.v_model = 1  # the second tab: the household
    assert "<h3>Household 0</h3>" in text_of(page, "povsim-profile")
    image = images(page, "povsim-household")
    rc.find(ipyvuetify.Btn, children=["Next"]).widget.click()  # looks for a relapse: none yet
    messages = [
        w.children for w in descendants(card(page, "povsim-profile")) if isinstance(w, ipyvuetify.Html)
    ]
    assert ["no household is 'relapsed' yet"] in messages
    rc.find(ipyvuetify.Select, label="Find").widget.v_model = "poor now"
    rc.find(ipyvuetify.Btn, children=["Next"]).widget.click()
    profile = text_of(page, "povsim-profile")
    assert "<h3>Household 0</h3>" not in profile
    assert "2021: poor" in profile
    assert images(page, "povsim-household") != image


def test_scenario_choices_list_the_folder(tmp_path):
    from povsim.dashboard.app import BUILT_IN, scenario_choices

    (tmp_path / "a.toml").write_text('name = "a"\n')
    (tmp_path / "b.toml").write_text('name = "b"\n')
    choices = scenario_choices(str(tmp_path / "b.toml"))
    assert list(choices.values()) == [str(tmp_path / "b.toml"), str(tmp_path / "a.toml")]
    assert len(set(choices)) == 2
    assert next(iter(scenario_choices(""))) == BUILT_IN


# --- the command -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "no/such.toml"], "no/such.toml"),
        (["--port", "70000"], "--port"),
        (["--host", "no.such.host.invalid"], "--host"),
    ],
)
def test_dashboard_command_rejects_bad_input_with_exit_2(args, message, capsys):
    assert main(["dashboard", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_dashboard_command_rejects_a_port_in_use(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
