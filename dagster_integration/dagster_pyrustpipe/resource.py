"""``PyRustPipeResource``: where the data lives (S3 settings) and how hard the engine works."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pyrustpipe as pp
from pydantic import Field
from pyrustpipe.integrations import console_run_url

__all__ = ["PyRustPipeResource"]


class PyRustPipeResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """S3 settings and engine options for pyrustpipe checks (resource key ``pyrustpipe``).

    The S3 fields are named as in ``dagster_aws.s3.S3Resource``. With none of them set, the
    engine uses the standard AWS chain (environment, profile, web identity, instance metadata).
    Secrets are best given as ``dg.EnvVar("...")``; they are passed to the engine only, never
    logged or put in metadata.
    """

    region_name: str | None = Field(default=None, description="AWS region of the bucket.")
    endpoint_url: str | None = Field(
        default=None, description="An S3-compatible endpoint (MinIO, R2, a local server)."
    )
    force_path_style: bool = Field(
        default=False, description="Path-style addressing (most S3-compatible servers)."
    )
    profile_name: str | None = Field(default=None, description="A profile of ~/.aws/config.")
    aws_access_key_id: str | None = Field(default=None, repr=False)
    aws_secret_access_key: str | None = Field(default=None, repr=False)
    aws_session_token: str | None = Field(default=None, repr=False)
    max_attempts: int | None = Field(
        default=None, description="Attempts per S3 request (the engine's default when unset)."
    )
    threads: int | None = Field(
        default=None, description="Engine worker threads (default: all cores)."
    )
    sample_size: int = Field(default=20, description="Failing values kept per rule.")
    console_url: str | None = Field(
        default=None,
        description="The pyrustpipe console's base URL (default: $PYRUSTPIPE_CONSOLE_URL): with "
        "a ledger, the summary check links to the run's page, {console_url}/runs/{run_id}.",
    )

    @classmethod
    def from_s3_resource(cls, s3: Any, **engine: Any) -> PyRustPipeResource:
        """The same S3 settings as a ``dagster_aws.s3.S3Resource`` (plus ``threads`` etc.)."""
        names = (
            "region_name",
            "endpoint_url",
            "profile_name",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "max_attempts",
        )
        settings: dict[str, Any] = {name: getattr(s3, name, None) for name in names}
        return cls(**settings, **engine)

    def storage_options(self) -> dict[str, str]:
        """The engine's ``storage_options``: only what is set, so the rest comes from the chain."""
        values: dict[str, Any] = {
            "region": self.region_name,
            "endpoint_url": self.endpoint_url,
            "profile": self.profile_name,
            "aws_access_key_id": self.aws_access_key_id,
            "aws_secret_access_key": self.aws_secret_access_key,
            "aws_session_token": self.aws_session_token,
            "max_attempts": self.max_attempts,
        }
        options = {key: str(value) for key, value in values.items() if value is not None}
        if self.force_path_style:
            options["force_path_style"] = "true"
        return options

    def validate_data(
        self,
        source: Any,
        schema: Any,
        **outputs: Any,
    ) -> pp.Report:
        """``pp.validate`` with this resource's settings; ``outputs`` are ``quarantine``,
        ``valid_output``, ``metrics_output`` and ``allow_empty``."""
        options: Mapping[str, str] | None = self.storage_options() or None
        return pp.validate(
            source,
            schema,
            threads=self.threads,
            sample_size=self.sample_size,
            storage_options=options,
            **outputs,
        )

    def console_metadata(self, report: pp.Report) -> dict[str, Any]:
        """``pyrustpipe_console``: the run's page in the console, when a console URL is set and
        the run wrote a ledger entry (the console's runs are the ledger's); else nothing."""
        link = console_run_url(report, self.console_url, self.storage_options() or None)
        return {} if link is None else {"pyrustpipe_console": dg.MetadataValue.url(link)}
