"""Airflow's ``[core] hostname_callable`` for the local cluster: the worker's name from its env.

Both Celery workers run on one machine, so the default (the machine's FQDN) would give every task
instance the same hostname; each worker process gets ``PYRUSTPIPE_CLUSTER_HOSTNAME`` instead.
"""

from __future__ import annotations

import os
import socket


def get() -> str:
    return os.environ.get("PYRUSTPIPE_CLUSTER_HOSTNAME") or socket.getfqdn()
