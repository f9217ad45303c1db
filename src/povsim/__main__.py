"""`python -m povsim` runs the command-line interface."""

import sys

from povsim.cli import main

sys.exit(main())
