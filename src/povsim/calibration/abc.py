"""ABC-SMC: a population Monte Carlo sampler of the posterior of a stochastic simulator.

The algorithm is the population Monte Carlo sampler of Beaumont et al. (2009, Biometrika
96:983) with the quantile tolerance schedule of Drovandi and Pettitt (2011) and Lenormand
et al. (2013): generation 0 keeps the prior draws closest to the observed moments;
each later generation sets its tolerance to a quantile of the last generation's distances,
proposes by moving a particle of the last generation with a Gaussian kernel of twice their
weighted covariance, simulates, accepts proposals within the tolerance, and weights each
accepted particle by prior density over the kernel mixture density.

Every proposal is a pure function of the master seed, the generation and its block index,
and proposals are accepted in block order, so the posterior does not depend on how many
workers evaluate the blocks or in which order they finish. Parameters move on the unit
interval of each prior (`Prior.to_unit`), where the kernel is isotropic in scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from povsim.calibration.spec import Calibration, Prior

PROPOSAL_STREAM = 0x0ABC
SIMULATIONS_PER_GENERATION = 100_000_000
MAX_REDRAWS = 1000


class CalibrationFailed(RuntimeError):
    """The fit cannot go on (every run failed, or no proposal fits the priors); the message says why."""


@dataclass(frozen=True)
class Block:
    """Proposals simulated together: their positions and the replicate index of each run.

    Attributes:
        generation: the generation proposing them.
        index: the block's place in the generation's sequence.
        unit: proposals on the priors' unit intervals, one row each.
        simulations: each proposal's simulation index; it selects the run's random stream.
    """

    generation: int
    index: int
    unit: np.ndarray
    simulations: np.ndarray


@dataclass(frozen=True)
class Population:
    """The accepted particles of one generation.

    Attributes:
        generation: 0, 1, ...
        epsilon: the tolerance every particle met.
        unit: positions on the priors' unit intervals, one row per particle.
        weights: importance weights, summing to 1.
        distances: each particle's distance to the targets.
        moments: every moment (targets and validation) each particle's run produced.
        simulations: each particle's simulation index.
        proposed: simulations run to fill the generation.
        failed: simulations that raised (counted as rejected).
    """

    generation: int
    epsilon: float
    unit: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    moments: np.ndarray
    simulations: np.ndarray
    proposed: int
    failed: int

    @property
    def acceptance_rate(self) -> float:
        """Accepted particles per simulation run in this generation."""
        return len(self.weights) / max(self.proposed, 1)

    def effective_sample_size(self) -> float:
        """Kish's effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))


def kernel_covariance(previous: Population) -> np.ndarray:
    """Twice the weighted covariance of the last generation (Beaumont et al. 2009), kept positive definite."""
    covariance = np.atleast_2d(np.cov(previous.unit, rowvar=False, aweights=previous.weights))
    covariance = 2.0 * covariance
    floor = 1e-10 * np.eye(len(covariance))
    return covariance + floor


def propose(calibration: Calibration, previous: Population | None, generation: int, index: int) -> Block:
    """The block `index` of a generation's proposals (deterministic given the master seed)."""
    size = calibration.spec.abc.batch_size
    seed = np.random.SeedSequence(
        calibration.spec.master_seed, spawn_key=(PROPOSAL_STREAM, generation, index)
    )
    rng = np.random.default_rng(seed)
    priors = calibration.priors
    if previous is None:
        unit = np.column_stack([p.sample_unit(rng, size) for p in priors])
    else:
        unit = _perturbed(rng, previous, priors, size)
    first = generation * SIMULATIONS_PER_GENERATION + index * size
    return Block(generation, index, unit, np.arange(first, first + size, dtype=np.int64))


def _perturbed(
    rng: np.random.Generator, previous: Population, priors: tuple[Prior, ...], size: int
) -> np.ndarray:
    """Moves of particles drawn by weight, redrawn until the prior density is positive."""
    covariance = kernel_covariance(previous)
    out = np.empty((size, len(priors)))
    for row in range(size):
        for _ in range(MAX_REDRAWS):
            ancestor = rng.choice(len(previous.weights), p=previous.weights)
            candidate = rng.multivariate_normal(previous.unit[ancestor], covariance)
            if prior_density(priors, candidate[None, :])[0] > 0:
                out[row] = candidate
                break
        else:
            raise CalibrationFailed(
                f"no proposal inside the priors' support after {MAX_REDRAWS} tries; the kernel is too wide"
            )
    return out


def prior_density(priors: tuple[Prior, ...], unit: np.ndarray) -> np.ndarray:
    """The joint prior density of rows of unit-interval positions (priors independent)."""
    density = np.ones(len(unit))
    for column, prior in enumerate(priors):
        density *= prior.unit_density(unit[:, column])
    return density


def importance_weights(
    priors: tuple[Prior, ...], unit: np.ndarray, previous: Population | None
) -> np.ndarray:
    """Weights of accepted particles: prior density over the proposal mixture's density."""
    if previous is None:
        return np.full(len(unit), 1.0 / len(unit))
    covariance = kernel_covariance(previous)
    precision = np.linalg.inv(covariance)
    _, log_det = np.linalg.slogdet(covariance)
    differences = unit[:, None, :] - previous.unit[None, :, :]
    quadratic = np.einsum("ijk,kl,ijl->ij", differences, precision, differences)
    log_kernel = -0.5 * (quadratic + log_det + unit.shape[1] * np.log(2 * np.pi))
    mixture = np.exp(log_kernel) @ previous.weights
    weights = prior_density(priors, unit) / mixture
    return weights / weights.sum()


def distances(calibration: Calibration, moments: np.ndarray) -> np.ndarray:
    """Euclidean distance to the targets, each discrepancy in units of its tolerance.

    Args:
        calibration: names the targets and their tolerances.
        moments: every moment, in `calibration.moments` order, one row per run; NaN where a
            run failed (its distance is infinite).
    """
    columns = [i for i, m in enumerate(calibration.moments) if m.role == "target"]
    observed = np.array([calibration.moments[i].observed for i in columns])
    tolerance = np.array([calibration.moments[i].tolerance for i in columns])
    scaled = (moments[:, columns] - observed) / tolerance
    out = np.sqrt(np.sum(scaled**2, axis=1))
    return np.where(np.isnan(out), np.inf, out)


def next_epsilon(calibration: Calibration, previous: Population) -> float:
    """The next tolerance: a quantile of the last distances, never below the final tolerance."""
    settings = calibration.spec.abc
    return max(settings.final_epsilon, float(np.quantile(previous.distances, settings.epsilon_quantile)))


def stop_reason(calibration: Calibration, populations: list[Population], simulations: int) -> str | None:
    """Why the sampler stops after the last generation, or None to go on."""
    settings = calibration.spec.abc
    last = populations[-1]
    if last.epsilon <= settings.final_epsilon:
        return f"the tolerance reached the final tolerance {settings.final_epsilon:g}"
    if len(populations) >= settings.max_generations:
        return f"max_generations ({settings.max_generations}) reached"
    if last.generation > 0 and last.acceptance_rate < settings.min_acceptance_rate:
        return (
            f"acceptance rate {last.acceptance_rate:.3f} below min_acceptance_rate "
            f"{settings.min_acceptance_rate:g}"
        )
    if simulations >= settings.max_simulations:
        return f"max_simulations ({settings.max_simulations:,}) reached"
    return None
