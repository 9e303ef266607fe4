"""OpenLineage facets from a pyrustpipe report.

Imported only from ``get_openlineage_facets_on_complete``, which Airflow calls only when the
OpenLineage provider is installed; nothing else in the provider imports OpenLineage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def dataset_name(uri: str) -> tuple[str, str]:
    """OpenLineage naming: ``s3://bucket/key`` → (``s3://bucket``, ``key``); a path → ``file``."""
    if "://" in uri:
        scheme, rest = uri.split("://", 1)
        bucket, _, key = rest.partition("/")
        return f"{scheme}://{bucket}", key or "/"
    return "file", uri


def operator_lineage(sources: Sequence[str], report: Mapping[str, Any]) -> Any:
    from airflow.providers.common.compat.openlineage.facet import InputDataset, OutputDataset
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.generated.data_quality_assertions_dataset import (
        Assertion,
        DataQualityAssertionsDatasetFacet,
    )
    from openlineage.client.generated.data_quality_metrics_input_dataset import (
        ColumnMetrics,
        DataQualityMetricsInputDatasetFacet,
    )
    from openlineage.client.generated.output_statistics_output_dataset import (
        OutputStatisticsOutputDatasetFacet,
    )

    rules = report["rules"]
    columns = report["sources"][0]["columns"] if report["sources"] else []
    null_counts = {r["column"]: r["failed"] for r in rules if r["kind"] == "not_null"}
    metrics = DataQualityMetricsInputDatasetFacet(
        columnMetrics={
            c: ColumnMetrics(nullCount=null_counts.get(c), count=float(report["rows"]))
            for c in columns
        },
        rowCount=report["rows"],
        bytes=report["bytes"],
        fileCount=len(report["sources"]),
    )
    assertions = DataQualityAssertionsDatasetFacet(
        assertions=[
            Assertion(
                assertion=r["kind"],
                success=r["passed"],
                column=r["column"],
                severity=r["severity"],
                name=r["name"],
                expected="0" if r["tolerance"] is None else f"<= {r['allowed_failures']}",
                actual=str(r["failed"]),
            )
            for r in rules
        ]
    )
    inputs = [
        InputDataset(
            *dataset_name(uri),
            inputFacets={"dataQualityMetrics": metrics, "dataQualityAssertions": assertions},
        )
        for uri in sources
    ]
    outputs = [
        OutputDataset(
            *dataset_name(report["outputs"][kind]),
            outputFacets={"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=count)},
        )
        for kind, count in (("valid", report["valid_rows"]), ("quarantine", report["invalid_rows"]))
        if report["outputs"].get(kind)
    ]
    return OperatorLineage(inputs=inputs, outputs=outputs)
