"""The retry policy of pyrustpipe tasks (Airflow 3.3 ``retry_policy``, AIP-105).

Storage faults (S3 throttling, resets, timeouts) are worth retrying: the engine's S3 manifest
makes a retry commit its outputs exactly once. Invalid rules or options and unreadable data are
not: a retry reads the same bytes with the same rules and fails the same way, so the task fails
at once, with the reason on the task instance. (Rule failures raise ``PyRustPipeValidationFailed``,
an ``AirflowFailException``, which never retries whatever the policy.)
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

__all__ = ["pyrustpipe_retry_policy"]

# Dotted paths, not classes: the policy is serialised with the Dag.
_SCHEMA_ERROR = "pyrustpipe.exceptions.SchemaError"
_DATA_FORMAT_ERROR = "pyrustpipe.exceptions.DataFormatError"
_STORAGE_ERROR = "pyrustpipe.exceptions.StorageError"


def pyrustpipe_retry_policy(
    storage_retry_delay: timedelta | None = None,
) -> ExceptionRetryPolicy:
    """Fail at once on ``SchemaError`` and ``DataFormatError``; retry ``StorageError`` (after
    ``storage_retry_delay``, else the task's ``retry_delay``) within the task's ``retries``; leave
    every other exception to Airflow's usual retries. The validate and gate operators use it
    unless they are given a ``retry_policy``.

    >>> from airflow.sdk import RetryAction
    >>> import pyrustpipe as pp
    >>> policy = pyrustpipe_retry_policy()
    >>> policy.evaluate(pp.SchemaError("bad rule"), try_number=1, max_tries=3).action
    <RetryAction.FAIL: 'fail'>
    >>> policy.evaluate(pp.StorageError("s3 reset"), try_number=1, max_tries=3).action
    <RetryAction.RETRY: 'retry'>
    """
    return ExceptionRetryPolicy(
        rules=[
            RetryRule(
                exception=[_SCHEMA_ERROR, _DATA_FORMAT_ERROR],
                action=RetryAction.FAIL,
                reason="invalid rules, options or data: a retry would fail the same way",
            ),
            RetryRule(
                exception=_STORAGE_ERROR,
                action=RetryAction.RETRY,
                retry_delay=storage_retry_delay,
                reason="storage fault: retrying (outputs are committed exactly once)",
            ),
        ]
    )
