"""Example rules for one big export validated in byte-range splits (docs/splits.md): the row and
column rules of ``transactions.py`` without its dataset checks (``min_rows``, the mean of
``amount``), which are judged on the whole object and cannot be combined from splits.

pyrustpipe validate export.csv --rules example_dags/rules/transaction_rows.py:TransactionRows
"""

from datetime import datetime

import pyrustpipe as pp

KENYAN_MOBILE = r"^\+2547[0-9]{8}$"


class TransactionRows(pp.Schema):
    txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
    timestamp: datetime = pp.Field(format="%Y-%m-%dT%H:%M:%S")
    sender_phone: str = pp.Field(pattern=KENYAN_MOBILE)
    receiver_phone: str = pp.Field(pattern=KENYAN_MOBILE)
    amount: float = pp.Field(gt=0, le=1_000_000)
    fee: float = pp.Field(ge=0)
    currency: str = pp.Field(isin=["KES", "UGX", "TZS", "NGN", "GHS", "ZAR", "USD"])
    channel: str = pp.Field(isin=["USSD", "APP", "AGENT", "API"])
    status: str = pp.Field(isin=["SUCCESS", "FAILED", "PENDING", "REVERSED"])
    # Lower-case codes are worth a look but should not stop the pipeline.
    country: str = pp.Field(pattern=pp.Check(r"^[A-Z]{2}$", severity="warn"))
    agent_id: str | None = pp.Field()

    @pp.row_rule
    def fee_within_amount(row):
        return row.fee <= row.amount

    class Config:
        strict = True
