"""Example rules for one big export validated in byte-range splits (docs/splits.md): the row and
column rules of ``transactions.py`` without its dataset checks (``min_rows``, the mean of
``amount``), which are judged on the whole object and cannot be combined from splits.

pyrustpipe validate export.csv --rules example_dags/rules/transaction_rows.py:TransactionRows
"""

from pathlib import Path

import pyrustpipe as pp

# The row and column rules are those of transactions.py, loaded by path like any rules file.
Transactions = pp.load_rules(f"{Path(__file__).with_name('transactions.py')}:Transactions")


class TransactionRows(Transactions):  # type: ignore[misc,valid-type]
    """The transactions rules without the dataset checks a split cannot judge alone."""

    class Config:
        name = "TransactionRows"
        min_rows = None
        checks: list[pp.DatasetCheck] = []
