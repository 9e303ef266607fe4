"""Apache Airflow provider for pyrustpipe.

Import the operators from ``pyrustpipe_provider.operators`` and the hook from
``pyrustpipe_provider.hooks``; this module stays empty so that Airflow's provider discovery, which
imports the package, loads neither Airflow nor the engine.
"""

__version__ = "0.1.0"
