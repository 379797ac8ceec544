"""The tests mirror the package (tests/<package>/); shared specs and fakes live in tests/support/."""

import sys
from pathlib import Path

# NOTE: op_specs*, fakegpu, backend_sweep and random_programs are imported by name from any folder
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
