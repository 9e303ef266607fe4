"""Schemas shared by the tests: the DESIGN.md transactions schema with every section filled in,
and one that uses every construct of the DSL once."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import pyrustpipe as pp

__all__ = ["Everything", "Transactions"]


class Transactions(pp.Schema):
    txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
    timestamp: dt.datetime = pp.Field(format="%Y-%m-%dT%H:%M:%S")
    sender_phone: str = pp.Field(pattern=r"^\+2547[0-9]{8}$")
    amount: float = pp.Field(gt=0, le=1_000_000)
    fee: float = pp.Field(ge=0)
    currency: str = pp.Field(isin=["KES", "UGX"])
    agent_id: str | None = pp.Field()
    note: str | None = None

    @pp.row_rule
    def fee_within_amount(row):
        return row.fee <= row.amount

    class Config:
        strict = True
        ordered = False
        unique: ClassVar = [("sender_phone", "timestamp")]
        min_rows = 1
        max_rows = None
        checks: ClassVar = [
            pp.col("amount").mean().between(10, 5000),
            pp.col("agent_id").null_fraction() <= 0.2,
            pp.col("currency").n_unique() >= 3,
            pp.col("amount").sum() > 0,
        ]
        delimiter = ","
        null_values: ClassVar = [""]


class Everything(pp.Schema):
    s: str = pp.Field(
        min_length=1,
        max_length=9,
        pattern="^a",
        isin=["a"],
        not_in=["b"],
        unique="first",
    )
    i: int = pp.Field(gt=0, ge=1, lt=10, le=9, severity="warn", tolerance=2)
    f: float | None = pp.Field(le=pp.Check(5, name="f_cap"))
    d: dt.date | None = pp.Field(ge="2020-01-01", isin=[dt.date(2020, 1, 2)], format="%d/%m/%Y")
    when: dt.datetime = pp.Field(lt=dt.datetime(2030, 1, 1))
    at: dt.time = pp.Field(ge=dt.time(8))

    @pp.row_rule
    def everything(row):  # type: ignore[no-untyped-def]
        return (
            (row.s.str.len() > 0)
            & row.s.str.startswith("a")
            & row.s.str.endswith("z")
            & row.s.str.contains("m")
            & row.s.str.matches("^a.*z$")
            & (row.s.str.lower() == row.s.str.upper())
            & ~row.f.is_null()
            & (abs(-row.i) % 2 == 0)
            & row.i.isin([1, 2])
            & (row.i / 2 + 1 - 3 * 1 != 0)
            & (row.when.dt.year >= 2020)
            & (row.d < dt.date(2030, 1, 1))
            & (row.when > dt.datetime(2020, 1, 1))
            & (row.at.dt.hour < 20)
        )

    class Config:
        unique: ClassVar = [pp.Unique(("s", "i"), name="si")]
        min_rows = 0
        checks: ClassVar = [
            pp.col("i").n_unique() > 1,
            pp.col("f").null_count() == 0,
        ]
