"""Comparing policy mixes: tables, figures and one HTML report from stored runs and sweeps.

```python
from pathlib import Path

from povsim.comparison import compare

done = compare([Path("results/baseline"), Path("results/budget_cut_30")], Path("results/comparison"))
print(done.headlines)
```

`loading` reads run and sweep folders, `tables` and `panel` compute the tables, `stored`
reads them back, and `figures` and `report` draw only from what was stored.
"""

from povsim.comparison.compare import Comparison, compare

__all__ = ["Comparison", "compare"]
