"""Example rules with history: the transactions rules for one day's files, each also judged
against the quality ledger's earlier days (docs/ledger.md). The Airflow fan-out and the Dagster
ledger examples use them.

pyrustpipe validate day.csv --rules example_dags/rules/transactions_daily.py:DailyTransactions \
    --ledger dq-ledger --partition dt=2026-03-05
"""

from pathlib import Path

import pyrustpipe as pp

# The row and dataset rules are those of transactions.py, loaded by path like any rules file.
Transactions = pp.load_rules(f"{Path(__file__).with_name('transactions.py')}:Transactions")


class DailyTransactions(Transactions):  # type: ignore[misc,valid-type]
    """The same rules for one day's files, each also judged against the quality ledger's earlier
    days (docs/ledger.md): the fan-out example validates each landing file with these."""

    class Config:
        # Reports and the ledger key (the schema's name) stay those of the fan-out example
        # before it judged history, so its earlier ledger entries keep counting.
        name = "Transactions"
        history = [
            # A file much shorter than the earlier days' files (a half-delivered extract);
            # a longer one is not a fault here. Skipped until four earlier days are in the ledger.
            pp.history.row_count(sigma=4, lookback=28, min_history=4, direction="drop"),
            # Columns added, removed or retyped since the latest earlier entry.
            pp.history.schema_drift(),
        ]
