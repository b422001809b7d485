"""SEC EDGAR documents: Form 4 insider filings, read from and written to the published schema.

Only the vendor schema lives here; the simulated information world (``simulator.insider``)
writes its filings with :func:`write_form4` so that they read exactly like EDGAR's.
"""

from quantumtrade.marketdata.sec.form4 import (
    DOCUMENT_TYPES,
    TRANSACTION_CODES,
    Amounts,
    Coding,
    DerivativeHolding,
    DerivativeTransaction,
    Footnote,
    Form4,
    Form4Error,
    Issuer,
    NonDerivativeHolding,
    NonDerivativeTransaction,
    OwnerAddress,
    Ownership,
    ReportingOwner,
    Signature,
    Value,
    parse_form4,
    write_form4,
)

__all__ = [
    "DOCUMENT_TYPES",
    "TRANSACTION_CODES",
    "Amounts",
    "Coding",
    "DerivativeHolding",
    "DerivativeTransaction",
    "Footnote",
    "Form4",
    "Form4Error",
    "Issuer",
    "NonDerivativeHolding",
    "NonDerivativeTransaction",
    "OwnerAddress",
    "Ownership",
    "ReportingOwner",
    "Signature",
    "Value",
    "parse_form4",
    "write_form4",
]
