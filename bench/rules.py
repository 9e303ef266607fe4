"""The benchmark's rule set, written in the pyrustpipe DSL (DESIGN.md §3.1).

`bench/rules.json` is the same rule set written by hand in the wire format (docs/spec.md), so the
oracle and the peers can be checked without the DSL. Keep the two in step.
"""

from datetime import datetime

import pyrustpipe as pp

PHONE = r"^\+2547[0-9]{8}$"


class Transactions(pp.Schema):
    txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
    timestamp: datetime = pp.Field(format="%Y-%m-%dT%H:%M:%S")
    sender_phone: str = pp.Field(pattern=PHONE)
    receiver_phone: str = pp.Field(pattern=PHONE)
    amount: float = pp.Field(gt=0, le=1_000_000)
    fee: float = pp.Field(ge=0)
    currency: str = pp.Field(isin=["KES", "UGX", "TZS", "NGN", "GHS", "ZAR", "USD"])
    channel: str = pp.Field(isin=["USSD", "APP", "AGENT", "API"])
    status: str = pp.Field(isin=["SUCCESS", "FAILED", "PENDING", "REVERSED"])
    country: str = pp.Field(pattern=r"^[A-Z]{2}$")
    agent_id: str | None = pp.Field()

    @pp.row_rule
    def fee_within_amount(row):
        return row.fee <= row.amount
