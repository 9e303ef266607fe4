"""Provider metadata for Airflow's ``apache_airflow_provider`` entry point.

Every Airflow process calls this whenever the package is installed, so it imports neither Airflow
nor the engine. ``package-name`` must equal the canonical distribution name, or Airflow's
ProvidersManager rejects the provider.
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-pyrustpipe",
        "name": "pyrustpipe",
        "description": "Data-quality gate: validate CSV/NDJSON/Parquet on S3 with typed rules.",
        "integrations": [
            {
                "integration-name": "pyrustpipe",
                "external-doc-url": "https://github.com/pyrustpipe/pyrustpipe/blob/main/docs/airflow.md",
                "tags": ["software"],
            }
        ],
        "operators": [
            {
                "integration-name": "pyrustpipe",
                "python-modules": ["pyrustpipe_provider.operators"],
            }
        ],
        "extra-links": ["pyrustpipe_provider.operators.PyRustPipeConsoleLink"],
        "hooks": [
            {
                "integration-name": "pyrustpipe",
                "python-modules": ["pyrustpipe_provider.hooks"],
            }
        ],
    }
