"""Apache Airflow provider for pyrustpipe.

Import the operators from ``pyrustpipe_provider.operators`` and the hook from
``pyrustpipe_provider.hooks``; this module stays empty so that Airflow's provider discovery, which
imports the package, loads neither Airflow nor the engine.
"""

# Also the distribution's version (pyproject.toml reads it from here);
# tests/python/test_packaging.py holds it equal to the Cargo workspace version.
__version__ = "0.1.0"
