"""pandas variant: the committed peer (pd.read_csv(engine="pyarrow", dtype=str))."""

import runpy
import sys
from pathlib import Path

peers = Path(__file__).resolve().parent.parent / "peers"
sys.path.insert(0, str(peers))
runpy.run_path(str(peers / "pandas_pyarrow.py"), run_name="__main__")
