"""The opinions in Form 4 filings: their open-market purchases and sales as domain values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal

from quantumtrade.domain.insider import InsiderTrade, Role
from quantumtrade.marketdata.sec.form4 import Form4

_PLAN = re.compile(r"10b5-1", re.IGNORECASE)


def _role(form: Form4) -> tuple[Role, str | None]:
    owner = form.reporting_owners[0]
    if owner.is_officer:
        return "officer", owner.officer_title
    if owner.is_director:
        return "director", None
    if owner.is_ten_percent_owner:
        return "10% owner", None
    return "other", owner.other_text


def insider_trades(filings: Iterable[tuple[datetime, Form4]]) -> list[InsiderTrade]:
    """Return the open-market trades (P, S) of ``(filed_at, form)`` pairs, oldest first.

    A sale is *planned* when the form ticks the Rule 10b5-1 box or a footnote on the trade
    names the rule. A joint filing (a fund and its general partner) reports one trade, under
    its first owner.
    """
    out: list[InsiderTrade] = []
    for filed_at, form in filings:
        role, title = _role(form)
        for tx in form.non_derivative_transactions:
            code: Literal["P", "S"]
            if tx.code == "P":
                code = "P"
            elif tx.code == "S":
                code = "S"
            else:
                continue
            if tx.transaction_date.value is None:
                continue
            notes = " ".join(
                form.notes(tx.coding)
                + form.notes(tx.amounts.shares)
                + form.notes(tx.amounts.price)
                + form.notes(tx.transaction_date)
            )
            planned = code == "S" and (bool(form.aff10b5_one) or bool(_PLAN.search(notes)))
            out.append(
                InsiderTrade(
                    filed_at=filed_at,
                    traded_on=tx.transaction_date.value,
                    insider=form.reporting_owners[0].name,
                    role=role,
                    title=title,
                    code=code,
                    shares=float(tx.amounts.shares.value or Decimal(0)),
                    price=float(tx.amounts.price.value or Decimal(0)),
                    planned=planned,
                )
            )
    out.sort(key=lambda t: (t.filed_at, t.traded_on))
    return out
