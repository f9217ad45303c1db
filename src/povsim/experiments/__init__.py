"""Parameter sweeps: experiment files, designs, executors, the results store and the analysis.

```python
from pathlib import Path

from povsim.experiments import load_experiment, run_sweep

experiment = load_experiment("experiments/smoke.toml")
report = run_sweep(experiment, Path("results/smoke"), workers=2)
```
"""

from povsim.experiments.loading import load_experiment
from povsim.experiments.spec import Experiment
from povsim.experiments.sweep import SweepReport, WorkerLost, run_sweep

__all__ = ["Experiment", "SweepReport", "WorkerLost", "load_experiment", "run_sweep"]
