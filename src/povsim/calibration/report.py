"""The fit report: what the data identify, how well the fit reproduces them, and what it misses.

`write_report` runs the posterior predictive check (and a prior predictive one beside it),
then writes `report/tables/*.csv`, `report/figures/*.png` and one self-contained
`report/report.html`. Predictive runs are kept in `report/predictive.parquet`, tagged with
the posterior's fingerprint, so a rerun of the report after a resume reuses them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from povsim.calibration.abc import Population
from povsim.calibration.checks import CHECKS, PredictiveTask, predictive_run
from povsim.calibration.spec import Calibration
from povsim.experiments.executors import open_executor
from povsim.experiments.store import write_atomic, write_parquet_atomic
from povsim.model import last_review_year
from povsim.scenario.loading import with_overrides

REPORT_STREAM = 0x4E9
POSTERIOR_REPLICATES = 2_000_000_000
PRIOR_REPLICATES = 2_100_000_000
IDENTIFIED_SD_RATIO = 0.7
EDGE_SHARE = 0.05  # the outer 5 % of a prior's unit interval, at each end
PRESSING_MASS = 0.15  # posterior mass there (the prior's is 5 %) that flags a bound the data push against
FIRST_YEAR = 2021
Notify = Callable[[str], None]


def write_report(
    calibration: Calibration,
    out: Path,
    populations: list[Population],
    reason: str,
    workers: int,
    say: Notify,
) -> list[str]:
    """Write the fit report into `out/report`; return the files written, relative to `out`."""
    folder = out / "report"
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    posterior = populations[-1]
    runs = predictive_runs(calibration, posterior, folder, workers, say)
    tables = {
        "posterior_summary": posterior_summary(calibration, posterior),
        "posterior_correlations": posterior_correlations(calibration, posterior),
        "generations": generations_table(populations),
        "moments": moments_table(calibration, runs),
        "checks": checks_table(runs),
        "predictive_paths": paths_table(calibration, runs),
        "screen": screen_table(out),
    }
    written = []
    for name, table in tables.items():
        path = folder / "tables" / f"{name}.csv"
        write_atomic(path, table.to_csv(index=False).encode())
        written.append(str(path.relative_to(out)))
    figures = {
        "predictive_paths": figure_paths(calibration, tables["predictive_paths"]),
        "marginals": figure_marginals(calibration, posterior),
        "screen": figure_screen(tables["screen"]),
        "generations": figure_generations(tables["generations"]),
        "checks": figure_checks(runs),
    }
    images = {}
    for name, figure in figures.items():
        if figure is None:
            continue
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        path = folder / "figures" / f"{name}.png"
        write_atomic(path, buffer.getvalue())
        images[name] = buffer.getvalue()
        written.append(str(path.relative_to(out)))
    page = report_html(calibration, populations, reason, tables, images)
    write_atomic(folder / "report.html", page.encode())
    written.append("report/report.html")
    return written


def predictive_runs(
    calibration: Calibration, posterior: Population, folder: Path, workers: int, say: Notify
) -> pd.DataFrame:
    """Posterior and prior predictive runs, one row each (read back when the posterior is unchanged)."""
    fingerprint = _fingerprint(posterior, calibration)
    path = folder / "predictive.parquet"
    if path.is_file():
        table = pq.read_table(path)
        if (table.schema.metadata or {}).get(b"povsim.posterior") == fingerprint.encode():
            return table.to_pandas()
    settings = calibration.spec.predictive
    base = calibration.base
    if settings.household_count:
        base = with_overrides(base, {"run.household_count": settings.household_count})
    switch = base.standards.decree_351_first_review_date.year
    years = tuple(range(FIRST_YEAR, min(last_review_year(base.calendar.end_date), switch - 1) + 1))
    rng = np.random.default_rng(
        np.random.SeedSequence(calibration.spec.master_seed, spawn_key=(REPORT_STREAM,))
    )
    chosen = rng.choice(len(posterior.weights), size=settings.draws, p=posterior.weights)
    prior_unit = np.column_stack([p.sample_unit(rng, settings.draws) for p in calibration.priors])
    outcomes = tuple(m.outcome for m in calibration.moments)
    tasks = []
    for kind, units, offset in (
        ("posterior", posterior.unit[chosen], POSTERIOR_REPLICATES),
        ("prior", prior_unit, PRIOR_REPLICATES),
    ):
        for i, unit in enumerate(units):
            parameters = {p.path: float(p.from_unit(unit[j])) for j, p in enumerate(calibration.priors)}
            tasks.append((kind, PredictiveTask(base, parameters, offset + i, outcomes, years)))
    say(f"report: {len(tasks)} predictive runs of {base.run.household_count:,} households")
    rows = []
    with open_executor(workers) as handle:
        futures = [(kind, task, handle.executor.submit(predictive_run, task)) for kind, task in tasks]
        for kind, task, future in futures:
            rows.append(
                {"kind": kind, **{f"parameter.{k}": v for k, v in task.parameters.items()}, **future.result()}
            )
    frame = pd.DataFrame(rows)
    scale = base.district_scale
    for moment in calibration.moments:
        if moment.district_total:
            frame[f"moment.{moment.name}"] = frame[f"moment.{moment.name}"] / scale
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(
        {"povsim.posterior": fingerprint}
    )
    write_parquet_atomic(path, table)
    return frame


def _fingerprint(posterior: Population, calibration: Calibration) -> str:
    digest = hashlib.sha256()
    for array in (posterior.unit, posterior.weights):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(calibration.spec.predictive.model_dump_json().encode())
    digest.update(calibration.identity().encode())
    return digest.hexdigest()


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: tuple[float, ...]) -> list[float]:
    """Quantiles of a weighted sample (the weighted empirical distribution, interpolated)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    cumulative = (cumulative - 0.5 * weights[order]) / cumulative[-1]
    return [float(np.interp(q, cumulative, values[order])) for q in quantiles]


def posterior_summary(calibration: Calibration, posterior: Population) -> pd.DataFrame:
    """Each parameter's prior and posterior: centre, spread, 90 % interval, and whether the data moved it.

    The spread ratio is the posterior standard deviation over the prior's, both on the prior's
    unit interval; a parameter counts as identified when it is below 0.7 (the data removed at
    least half of the prior variance), otherwise as prior-driven. `pressing` names a bound of
    the prior that holds 15 % or more of the posterior in its outer 5 %: the data would move
    the parameter past it, so the prior, not the data, sets that end.
    """
    rows = []
    w = posterior.weights
    for j, prior in enumerate(calibration.priors):
        unit = posterior.unit[:, j]
        values = prior.from_unit(unit)
        mean = float(np.sum(w * values))
        unit_sd = float(np.sqrt(np.sum(w * (unit - np.sum(w * unit)) ** 2)))
        ratio = unit_sd / prior.unit_sd()
        p05, p50, p95 = weighted_quantiles(values, w, (0.05, 0.5, 0.95))
        pressing = [
            end
            for end, near in (("low", unit <= EDGE_SHARE), ("high", unit >= 1.0 - EDGE_SHARE))
            if np.sum(w[near]) >= PRESSING_MASS
        ]
        rows.append(
            {
                "parameter": prior.name,
                "path": prior.path,
                "prior": prior.kind,
                "prior_low": prior.low,
                "prior_high": prior.high,
                "prior_mean": prior.expected_value(),
                "posterior_mean": mean,
                "posterior_p05": p05,
                "posterior_p50": p50,
                "posterior_p95": p95,
                "sd_ratio": ratio,
                "verdict": "identified" if ratio < IDENTIFIED_SD_RATIO else "prior-driven",
                "pressing": " and ".join(pressing),
            }
        )
    return pd.DataFrame(rows)


def posterior_correlations(calibration: Calibration, posterior: Population) -> pd.DataFrame:
    """Weighted correlations between parameters: the trade-offs the data leave open."""
    covariance = np.atleast_2d(np.cov(posterior.unit, rowvar=False, aweights=posterior.weights))
    sd = np.sqrt(np.diag(covariance))
    correlation = covariance / np.outer(sd, sd)
    names = [p.name for p in calibration.priors]
    frame = pd.DataFrame(correlation, columns=names)
    frame.insert(0, "parameter", names)
    return frame


def generations_table(populations: list[Population]) -> pd.DataFrame:
    """Tolerance, simulations and acceptance by generation."""
    return pd.DataFrame(
        [
            {
                "generation": p.generation,
                "tolerance": p.epsilon,
                "particles": len(p.weights),
                "simulations": p.proposed,
                "failed": p.failed,
                "acceptance_rate": p.acceptance_rate,
                "effective_sample_size": p.effective_sample_size(),
                "median_distance": float(np.median(p.distances)),
            }
            for p in populations
        ]
    )


def _band(values: pd.Series) -> dict[str, float]:
    clean = values.dropna().to_numpy(dtype=float)
    if not len(clean):
        return {"mean": np.nan, "p05": np.nan, "p95": np.nan, "runs": 0}
    return {
        "mean": float(clean.mean()),
        "p05": float(np.quantile(clean, 0.05)),
        "p95": float(np.quantile(clean, 0.95)),
        "runs": len(clean),
    }


def moments_table(calibration: Calibration, runs: pd.DataFrame) -> pd.DataFrame:
    """Every moment, target or held out, against the posterior and prior predictive runs."""
    rows = []
    for m in calibration.moments:
        post = _band(runs.loc[runs["kind"] == "posterior", f"moment.{m.name}"])
        prior = _band(runs.loc[runs["kind"] == "prior", f"moment.{m.name}"])
        inside = post["p05"] <= m.observed <= post["p95"]
        rows.append(
            {
                "moment": m.name,
                "path": m.outcome.path,
                "role": m.role,
                "observed": m.observed,
                "tolerance": m.tolerance,
                "posterior_mean": post["mean"],
                "posterior_p05": post["p05"],
                "posterior_p95": post["p95"],
                "prior_p05": prior["p05"],
                "prior_p95": prior["p95"],
                "gap_in_tolerances": (post["mean"] - m.observed) / m.tolerance,
                "verdict": "90 % band covers the observed value" if inside else "misses",
            }
        )
    return pd.DataFrame(rows)


def checks_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The untargeted checks: posterior predictive statistics against the evidence ranges."""
    rows = []
    for check in CHECKS:
        post = _band(runs.loc[runs["kind"] == "posterior", check.name])
        prior = _band(runs.loc[runs["kind"] == "prior", check.name])
        if check.evidence_low is None or check.evidence_high is None:
            verdict = "no evidence range: reported only"
        elif post["p95"] < check.evidence_low:
            verdict = "below the evidence range"
        elif post["p05"] > check.evidence_high:
            verdict = "above the evidence range"
        elif check.evidence_low <= post["mean"] <= check.evidence_high:
            verdict = "within the evidence range"
        else:
            verdict = "overlaps the evidence range; mean outside it"
        rows.append(
            {
                "check": check.name,
                "what": check.label,
                "evidence_low": check.evidence_low,
                "evidence_high": check.evidence_high,
                "posterior_mean": post["mean"],
                "posterior_p05": post["p05"],
                "posterior_p95": post["p95"],
                "prior_mean": prior["mean"],
                "verdict": verdict,
                "evidence": check.evidence,
            }
        )
    return pd.DataFrame(rows)


def paths_table(calibration: Calibration, runs: pd.DataFrame) -> pd.DataFrame:
    """Review rates by year: posterior and prior predictive bands, and the observed points."""
    observed = {
        FIRST_YEAR: calibration.base.targets.initial_rate_share,
        2024: calibration.base.targets.observed_2024_rate_share,
    }
    measure = calibration.base.targets.measure
    rows = []
    for column in sorted(c for c in runs.columns if c.rsplit("_", 1)[0] in _RATES):
        rate, year = column.rsplit("_", 1)
        post = _band(runs.loc[runs["kind"] == "posterior", column])
        prior = _band(runs.loc[runs["kind"] == "prior", column])
        rows.append(
            {
                "rate": rate,
                "year": int(year),
                "posterior_mean": post["mean"],
                "posterior_p05": post["p05"],
                "posterior_p95": post["p95"],
                "prior_p05": prior["p05"],
                "prior_p95": prior["p95"],
                "observed": observed.get(int(year)) if rate == f"{measure}_rate" else None,
            }
        )
    return pd.DataFrame(rows).sort_values(["rate", "year"]).reset_index(drop=True)


_RATES = ("poor_rate", "near_poor_rate", "poor_or_near_poor_rate", "ethnic_minority_poor_or_near_poor_rate")


def screen_table(out: Path) -> pd.DataFrame:
    """The Morris screen's indices (mu*, sigma) by moment and parameter."""
    path = out / "screen" / "tables" / "sensitivity.csv"
    if not path.is_file():
        return pd.DataFrame(
            columns=["outcome", "parameter", "mu_star", "mu_star_conf_low", "mu_star_conf_high", "sigma"]
        )
    raw = pd.read_csv(path)
    star = raw[raw["index"] == "mu_star"].set_index(["outcome", "parameter"])
    sigma = raw[raw["index"] == "sigma"].set_index(["outcome", "parameter"])["value"]
    frame = pd.DataFrame(
        {
            "mu_star": star["value"],
            "mu_star_conf_low": star["conf_low"],
            "mu_star_conf_high": star["conf_high"],
            "sigma": sigma,
        }
    ).reset_index()
    return frame.sort_values(["outcome", "mu_star"], ascending=[True, False]).reset_index(drop=True)


def figure_paths(calibration: Calibration, paths: pd.DataFrame) -> plt.Figure:
    """Predictive paths of the reviews 2021-2024 with 90 % bands and the observed points."""
    measure = f"{calibration.base.targets.measure}_rate"
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=False)
    for ax, rate, title in (
        (axes[0], measure, f"{measure.replace('_', ' ')} (the target measure)"),
        (axes[1], "poor_rate", "poor rate (not targeted)"),
    ):
        rows = paths[paths["rate"] == rate]
        years = rows["year"].to_numpy()
        ax.fill_between(
            years, 100 * rows["prior_p05"], 100 * rows["prior_p95"], color="0.85", label="prior 90 %"
        )
        ax.fill_between(
            years,
            100 * rows["posterior_p05"],
            100 * rows["posterior_p95"],
            color="tab:blue",
            alpha=0.35,
            label="posterior 90 %",
        )
        ax.plot(years, 100 * rows["posterior_mean"], color="tab:blue", label="posterior mean")
        observed = rows.dropna(subset=["observed"])
        if len(observed):
            ax.plot(observed["year"], 100 * observed["observed"], "o", color="black", label="observed")
        ax.set_title(title)
        ax.set_xticks(years, [f"end-{y}" for y in years])
        ax.set_ylabel("% of households")
        ax.set_ylim(bottom=0)
    axes[0].legend(frameon=False)
    figure.suptitle("Posterior predictive reviews against the observed decline")
    return figure


def figure_marginals(calibration: Calibration, posterior: Population) -> plt.Figure:
    """Posterior (weighted histogram) against prior (density) for each parameter."""
    count = len(calibration.priors)
    columns = 4
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.5 * rows), squeeze=False)
    grid = np.linspace(0.0, 1.0, 201)
    for j, prior in enumerate(calibration.priors):
        ax = axes[j // columns][j % columns]
        ax.hist(
            posterior.unit[:, j],
            bins=20,
            range=(0, 1),
            weights=posterior.weights,
            density=True,
            alpha=0.6,
            color="tab:blue",
            label="posterior",
        )
        ax.plot(grid, prior.unit_density(grid), color="0.3", label="prior")
        ticks = np.linspace(0, 1, 3)
        ax.set_xticks(ticks, [f"{v:.3g}" for v in prior.from_unit(ticks)])
        ax.set_title(prior.name, fontsize=9)
        ax.set_yticks([])
    for k in range(count, rows * columns):
        axes[k // columns][k % columns].axis("off")
    axes[0][0].legend(frameon=False, fontsize=8)
    figure.suptitle("Prior and posterior of each parameter (axes span the prior's support)")
    figure.tight_layout()
    return figure


def figure_screen(screen: pd.DataFrame) -> plt.Figure | None:
    """Morris mu* of each parameter, by moment."""
    if screen.empty:
        return None
    outcomes = list(dict.fromkeys(screen["outcome"]))
    figure, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), 3.6), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        rows = screen[screen["outcome"] == outcome].sort_values("mu_star")
        error = np.vstack(
            [rows["mu_star"] - rows["mu_star_conf_low"], rows["mu_star_conf_high"] - rows["mu_star"]]
        )
        ax.barh(
            rows["parameter"],
            rows["mu_star"],
            xerr=np.clip(np.nan_to_num(error), 0, None),
            color="tab:orange",
        )
        ax.set_title(outcome, fontsize=10)
        ax.set_xlabel("Morris mu* (effect over the prior's range)")
    figure.tight_layout()
    return figure


def figure_generations(generations: pd.DataFrame) -> plt.Figure:
    """Tolerance and acceptance rate by generation."""
    figure, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(generations["generation"], generations["tolerance"], "o-", label="tolerance")
    ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("tolerance (distance units)")
    twin = ax.twinx()
    twin.plot(generations["generation"], 100 * generations["acceptance_rate"], "s--", color="tab:green")
    twin.set_ylabel("acceptance %", color="tab:green")
    ax.set_title("ABC-SMC: tolerance and acceptance by generation")
    figure.tight_layout()
    return figure


def figure_checks(runs: pd.DataFrame) -> plt.Figure:
    """Posterior and prior predictive distributions of each untargeted check, with the evidence range."""
    figure, axes = plt.subplots(1, len(CHECKS), figsize=(3.0 * len(CHECKS), 3.4))
    for ax, check in zip(np.atleast_1d(axes), CHECKS, strict=True):
        data = [
            runs.loc[runs["kind"] == kind, check.name].dropna().to_numpy(dtype=float)
            for kind in ("prior", "posterior")
        ]
        ax.boxplot(data, tick_labels=["prior", "posterior"], whis=(5, 95), showfliers=False)
        if check.evidence_low is not None and check.evidence_high is not None:
            ax.axhspan(
                check.evidence_low, check.evidence_high, color="tab:green", alpha=0.2, label="evidence"
            )
        ax.set_title(check.name.replace("_", " "), fontsize=8)
    figure.suptitle("Untargeted checks (boxes: 5-95 % of predictive runs; green: evidence range)")
    figure.tight_layout()
    return figure


def report_html(
    calibration: Calibration,
    populations: list[Population],
    reason: str,
    tables: dict[str, pd.DataFrame],
    images: dict[str, bytes],
) -> str:
    """One self-contained page: the headline, the figures and every table."""
    headline = headline_lines(calibration, populations, reason, tables)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>povsim calibration {html.escape(calibration.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1.5em}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}"
        "td:first-child{text-align:left}img{max-width:100%}</style></head><body>",
        f"<h1>Calibration {html.escape(calibration.name)}: fit report</h1>",
        f"<p>{html.escape(calibration.spec.description)}</p>",
        "<h2>Headline</h2><ul>" + "".join(f"<li>{line}</li>" for line in headline) + "</ul>",
        "<p>How to read this: the posterior is an ABC-SMC approximation; a particle was accepted when "
        "its run's targets were within the final tolerance (distance in units of each target's tolerance). "
        "Predictive runs draw particles by weight and run them with fresh random streams at the report's "
        "household count. See docs/calibration.md for the method and the reading of each check.</p>",
    ]
    sections = (
        ("Posterior predictive reviews", "predictive_paths", "predictive_paths"),
        ("Targets and held-out moments", None, "moments"),
        ("Prior and posterior of each parameter", "marginals", "posterior_summary"),
        ("Trade-offs between parameters (posterior correlations)", None, "posterior_correlations"),
        ("Untargeted checks", "checks", "checks"),
        (
            "Screen: which parameters move the moments (Morris; counts at the calibration's household "
            "count, not scaled to the district)",
            "screen",
            "screen",
        ),
        ("Generations", "generations", "generations"),
    )
    for title, image, table in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if image and image in images:
            encoded = base64.b64encode(images[image]).decode()
            parts.append(f"<img alt='{image}' src='data:image/png;base64,{encoded}'>")
        parts.append(_html_table(tables[table]))
    parts.append("<h2>Calibration file</h2><pre>" + html.escape(calibration.text) + "</pre></body></html>")
    return "\n".join(parts)


def headline_lines(
    calibration: Calibration,
    populations: list[Population],
    reason: str,
    tables: dict[str, pd.DataFrame],
) -> list[str]:
    """The report's first lines: how the fit went, the fitted path, what is identified, what misses."""
    posterior = populations[-1]
    targets = calibration.base.targets
    paths = tables["predictive_paths"]
    rows = paths[paths["rate"] == f"{targets.measure}_rate"]
    start = rows[rows["year"] == FIRST_YEAR].iloc[0]
    end = rows[rows["year"] == rows["year"].max()].iloc[0]
    measure = f"{targets.measure}_rate".replace("_", " ")
    summary = tables["posterior_summary"]
    identified = ", ".join(summary.loc[summary["verdict"] == "identified", "parameter"]) or "none"
    prior_driven = ", ".join(summary.loc[summary["verdict"] == "prior-driven", "parameter"]) or "none"
    checks = tables["checks"]
    misses = checks[~checks["verdict"].str.startswith(("within", "no evidence"))]
    missed = f" ({', '.join(misses['check'])})" if len(misses) else ""
    pressing = summary[summary["pressing"].fillna("") != ""]
    bounds = (
        "; ".join(f"{row.parameter} against its prior's {row.pressing} end" for row in pressing.itertuples())
        or "none"
    )
    moments = tables["moments"]
    held_out = moments[moments["role"] == "validation"]
    held = "; ".join(
        f"{row.moment} {_plain_number(row.posterior_mean)} against {_plain_number(row.observed)} "
        f"({row.verdict})"
        for row in held_out.itertuples()
    )
    return [
        f"The fit used {sum(p.proposed for p in populations):,} simulations in {len(populations)} "
        f"generations and stopped because {html.escape(reason)}; final tolerance {posterior.epsilon:.3g}, "
        f"{len(posterior.weights)} particles (effective sample size "
        f"{posterior.effective_sample_size():.0f}).",
        f"Posterior predictive {measure}: end-{FIRST_YEAR} {100 * start['posterior_mean']:.2f} % "
        f"(observed {100 * targets.initial_rate_share:.2f} %), end-{int(end['year'])} "
        f"{100 * end['posterior_mean']:.2f} % with 90 % band {100 * end['posterior_p05']:.2f}-"
        f"{100 * end['posterior_p95']:.2f} % (observed {100 * targets.observed_2024_rate_share:.2f} %).",
        f"Identified by the data (posterior spread under {IDENTIFIED_SD_RATIO:g} of the prior's): "
        f"{identified}. Prior-driven: {prior_driven}.",
        f"Posterior pressing against a prior bound (15 % or more of its mass in the outer 5 %): {bounds}.",
        f"Untargeted checks that miss their evidence: {len(misses)} of {len(checks)}{missed}.",
        *([f"Held-out moments: {held}."] if held else []),
    ]


def _plain_number(value: float) -> str:
    """A number as a reader writes it: counts with thousands separators, shares to 4 digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def _html_table(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:.4g}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"
