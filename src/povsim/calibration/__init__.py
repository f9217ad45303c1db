"""Calibration: fit the uncertain parameters to the observed decline, with honest uncertainty.

```python
from pathlib import Path

from povsim.calibration import calibrate, load_calibration

calibration = load_calibration("experiments/calibration.toml")
calibrate(calibration, Path("results/calibration"), workers=2)
```

A Morris screen ranks the parameters by their effect on the moments; ABC-SMC then samples
the posterior; `posterior.parquet` is what `[posterior]` in a scenario file points to.
"""

from povsim.calibration.loading import load_calibration
from povsim.calibration.run import CalibrationReport, calibrate
from povsim.calibration.spec import Calibration

__all__ = ["Calibration", "CalibrationReport", "calibrate", "load_calibration"]
