"""Example rules: mobile-money transactions, as the demo, the docs and the example pipelines use.

pyrustpipe validate data.csv --rules example_dags/rules/transactions.py:Transactions
"""

from datetime import datetime

import pyrustpipe as pp

KENYAN_MOBILE = r"^\+2547[0-9]{8}$"


class Transactions(pp.Schema):
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
        min_rows = 1
        checks = [pp.col("amount").mean().between(1, 100_000)]
