"""SEC Form 4 (statement of changes in beneficial ownership): model, parser and writer.

EDGAR publishes each Form 4 as an ``ownershipDocument`` XML file (schema versions X0306 to
X0508 and later share the elements read here). Untrusted XML is parsed with ``defusedxml`` and
no DTD is allowed; every defect (malformed XML, a missing required element, a value that is not
a date, a decimal or a known code, a reference to an undefined footnote) raises
:class:`Form4Error` naming the element, never another exception type.

Most schema values are a ``<value>`` plus any number of ``<footnoteId id="F1"/>``; a footnote
may even stand in for the value (a price "see footnote 2"). :class:`Value` keeps both, so a
reader can tell "no price" from "price explained in F2". Shares and prices are ``Decimal``.

:func:`write_form4` renders the model back in schema order, so
``parse_form4(write_form4(form)) == form`` for every model the parser can return.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar
from xml.etree.ElementTree import Element, ParseError, SubElement, indent, tostring

from defusedxml import DefusedXmlException  # type: ignore[import-untyped, unused-ignore]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped, unused-ignore]

V = TypeVar("V", str, Decimal, date)
R = TypeVar("R")

# Section 16 transaction codes (Form 4 General Instructions, item 8).
TRANSACTION_CODES: dict[str, str] = {
    "P": "open market or private purchase",
    "S": "open market or private sale",
    "V": "transaction voluntarily reported earlier than required",
    "A": "grant, award or other acquisition from the issuer",
    "D": "disposition to the issuer",
    "F": "payment of exercise price or tax liability by delivering or withholding securities",
    "I": "discretionary transaction under an employee benefit plan",
    "M": "exercise or conversion of a derivative security exempted under Rule 16b-3",
    "C": "conversion of a derivative security",
    "E": "expiration of a short derivative position",
    "H": "expiration or cancellation of a long derivative position with value received",
    "O": "exercise of an out-of-the-money derivative security",
    "X": "exercise of an in-the-money or at-the-money derivative security",
    "G": "bona fide gift",
    "L": "small acquisition under Rule 16a-6",
    "W": "acquisition or disposition by will or the laws of descent and distribution",
    "Z": "deposit into or withdrawal from a voting trust",
    "J": "other acquisition or disposition (described in a footnote)",
    "K": "transaction in an equity swap or similar instrument",
    "U": "disposition pursuant to a tender of shares in a change of control",
}
DOCUMENT_TYPES = ("4", "4/A")

_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_TRUE, _FALSE = ("1", "true"), ("0", "false")
_ND_TX = "nonDerivativeTable/nonDerivativeTransaction"
_ND_HOLD = "nonDerivativeTable/nonDerivativeHolding"
_D_TX = "derivativeTable/derivativeTransaction"
_D_HOLD = "derivativeTable/derivativeHolding"


class Form4Error(ValueError):
    """The document is not a valid Form 4; the message names the offending element."""


@dataclass(frozen=True, slots=True)
class Value(Generic[V]):
    """A schema value and the ids of the footnotes attached to it (either may be missing)."""

    value: V | None = None
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issuer:
    cik: str
    name: str
    trading_symbol: str | None = None


@dataclass(frozen=True, slots=True)
class OwnerAddress:
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    state_description: str | None = None


@dataclass(frozen=True, slots=True)
class ReportingOwner:
    """A person or entity filing; joint filers (a fund and its general partner) are several."""

    cik: str
    name: str
    is_director: bool = False
    is_officer: bool = False
    is_ten_percent_owner: bool = False
    is_other: bool = False
    officer_title: str | None = None
    other_text: str | None = None
    address: OwnerAddress | None = None


@dataclass(frozen=True, slots=True)
class Coding:
    """``transactionCoding``: the form type, the Section 16 code, an equity-swap flag."""

    code: str
    form_type: str = "4"
    equity_swap: bool = False
    footnotes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in TRANSACTION_CODES:
            raise Form4Error(f"unknown transaction code {self.code!r}")


@dataclass(frozen=True, slots=True)
class Amounts:
    """``transactionAmounts``: shares, price per share and A(cquired) or D(isposed)."""

    shares: Value[Decimal]
    price: Value[Decimal]
    acquired_disposed: Value[str]

    def __post_init__(self) -> None:
        if self.acquired_disposed.value not in ("A", "D"):
            raise Form4Error(f"acquired/disposed code {self.acquired_disposed.value!r} is not A/D")


@dataclass(frozen=True, slots=True)
class Ownership:
    """``ownershipNature``: D(irect) or I(ndirect), and how an indirect holding is held."""

    direct_or_indirect: Value[str]
    nature: Value[str] | None = None

    def __post_init__(self) -> None:
        if self.direct_or_indirect.value not in ("D", "I", None):
            raise Form4Error(f"ownership {self.direct_or_indirect.value!r} is not D/I")


@dataclass(frozen=True, slots=True)
class NonDerivativeTransaction:
    """A row of Table I that changed a holding of stock."""

    security_title: Value[str]
    transaction_date: Value[date]
    coding: Coding
    amounts: Amounts
    shares_after: Value[Decimal]
    ownership: Ownership
    deemed_execution_date: Value[date] | None = None
    timeliness: Value[str] | None = None

    @property
    def code(self) -> str:
        return self.coding.code

    @property
    def acquired(self) -> bool:
        return self.amounts.acquired_disposed.value == "A"


@dataclass(frozen=True, slots=True)
class NonDerivativeHolding:
    """A row of Table I that only reports a holding (often an indirect one, "By Trust")."""

    security_title: Value[str]
    shares_after: Value[Decimal]
    ownership: Ownership


@dataclass(frozen=True, slots=True)
class DerivativeTransaction:
    """A row of Table II: options, RSUs, warrants acquired, exercised or disposed of."""

    security_title: Value[str]
    exercise_price: Value[Decimal]
    transaction_date: Value[date]
    coding: Coding
    amounts: Amounts
    exercise_date: Value[date]
    expiration_date: Value[date]
    underlying_title: Value[str]
    underlying_shares: Value[Decimal]
    shares_after: Value[Decimal]
    ownership: Ownership
    deemed_execution_date: Value[date] | None = None
    timeliness: Value[str] | None = None

    @property
    def code(self) -> str:
        return self.coding.code


@dataclass(frozen=True, slots=True)
class DerivativeHolding:
    security_title: Value[str]
    exercise_price: Value[Decimal]
    exercise_date: Value[date]
    expiration_date: Value[date]
    underlying_title: Value[str]
    underlying_shares: Value[Decimal]
    shares_after: Value[Decimal]
    ownership: Ownership


@dataclass(frozen=True, slots=True)
class Footnote:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    signature_date: date


@dataclass(frozen=True, slots=True)
class Form4:
    """One ``ownershipDocument`` of type 4 or 4/A (an amendment)."""

    schema_version: str
    document_type: str
    period_of_report: date
    issuer: Issuer
    reporting_owners: tuple[ReportingOwner, ...]
    non_derivative_transactions: tuple[NonDerivativeTransaction, ...] = ()
    non_derivative_holdings: tuple[NonDerivativeHolding, ...] = ()
    derivative_transactions: tuple[DerivativeTransaction, ...] = ()
    derivative_holdings: tuple[DerivativeHolding, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    remarks: str | None = None
    signatures: tuple[Signature, ...] = ()
    date_of_original_submission: date | None = None
    not_subject_to_section16: bool | None = None
    aff10b5_one: bool | None = None  # X0508: the Rule 10b5-1(c) plan check box

    def __post_init__(self) -> None:
        if self.document_type not in DOCUMENT_TYPES:
            raise Form4Error(f"documentType {self.document_type!r} is not a Form 4")
        if not self.reporting_owners:
            raise Form4Error("a Form 4 needs at least one reportingOwner")

    @property
    def is_amendment(self) -> bool:
        return self.document_type == "4/A"

    def footnote(self, footnote_id: str) -> str:
        """Return the text of footnote ``footnote_id`` (KeyError if it is not defined)."""
        for note in self.footnotes:
            if note.id == footnote_id:
                return note.text
        raise KeyError(footnote_id)

    def notes(self, value: Value[str] | Value[Decimal] | Value[date] | Coding) -> list[str]:
        """Return the texts of the footnotes attached to ``value``."""
        return [self.footnote(i) for i in value.footnotes]


# -- parsing ----------------------------------------------------------------------------------


def parse_form4(document: str | bytes) -> Form4:
    """Parse an EDGAR ``ownershipDocument``; raise Form4Error on any defect."""
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise Form4Error(f"not well-formed XML: {exc}") from None
    except (TypeError, UnicodeError) as exc:  # neither text nor bytes, or a bad encoding
        raise Form4Error(f"unreadable document: {exc}") from None
    if root.tag != "ownershipDocument":
        raise Form4Error(f"the root element is <{root.tag}>, not <ownershipDocument>")
    ids = [_attr_id(n, "footnotes/footnote") for n in root.findall("footnotes/footnote")]
    defined = set(ids)
    if len(defined) != len(ids):
        raise Form4Error("two <footnote> elements share an id")
    for ref in root.iter("footnoteId"):
        if _attr_id(ref, "footnoteId") not in defined:
            raise Form4Error(f"<footnoteId id={ref.get('id')!r}> refers to no <footnote>")
    doc_type = _text(root, "documentType", required=True)
    try:
        return Form4(
            schema_version=_text(root, "schemaVersion") or "",
            document_type=doc_type or "",
            period_of_report=_date(_text(root, "periodOfReport", required=True), "periodOfReport"),
            issuer=_issuer(_need(root, "issuer")),
            reporting_owners=tuple(
                _owner(el, f"reportingOwner[{n}]")
                for n, el in enumerate(root.findall("reportingOwner"), 1)
            ),
            non_derivative_transactions=_rows(root, _ND_TX, _non_derivative),
            non_derivative_holdings=_rows(root, _ND_HOLD, _non_derivative_holding),
            derivative_transactions=_rows(root, _D_TX, _derivative),
            derivative_holdings=_rows(root, _D_HOLD, _derivative_holding),
            footnotes=tuple(
                Footnote(_attr_id(n, "footnote"), "".join(n.itertext()).strip())
                for n in root.findall("footnotes/footnote")
            ),
            remarks=_text(root, "remarks"),
            signatures=tuple(
                Signature(
                    _text(s, "signatureName", "ownerSignature") or "",
                    _date(_text(s, "signatureDate", "ownerSignature", required=True), "sig"),
                )
                for s in root.findall("ownerSignature")
            ),
            date_of_original_submission=_opt_date(root, "dateOfOriginalSubmission"),
            not_subject_to_section16=_opt_bool(root, "notSubjectToSection16"),
            aff10b5_one=_opt_bool(root, "aff10b5One"),
        )
    except Form4Error as exc:
        raise Form4Error(f"ownershipDocument: {exc}") from None


def _need(parent: Element, tag: str, where: str = "") -> Element:
    found = parent.find(tag)
    if found is None:
        raise Form4Error(f"missing <{tag}>" + (f" in {where}" if where else ""))
    return found


def _text(parent: Element, tag: str, where: str = "", *, required: bool = False) -> str | None:
    found = parent.find(tag)
    text = (found.text or "").strip() if found is not None else ""
    if not text and required:
        raise Form4Error(f"missing <{tag}>" + (f" in {where}" if where else ""))
    return text or None


def _attr_id(element: Element, where: str) -> str:
    found = (element.get("id") or "").strip()
    if not found:
        raise Form4Error(f"<{where}> has no id attribute")
    return found


def _date(text: str | None, where: str) -> date:
    match = _DATE.fullmatch(text or "")
    try:
        if match is None:
            raise ValueError
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise Form4Error(f"<{where}> {text!r} is not a date (YYYY-MM-DD)") from None


def _opt_date(parent: Element, tag: str) -> date | None:
    text = _text(parent, tag)
    return None if text is None else _date(text, tag)


def _bool(text: str | None, where: str) -> bool:
    flag = (text or "0").lower()
    if flag not in _TRUE + _FALSE:
        raise Form4Error(f"<{where}> {text!r} is not a boolean (1/0/true/false)")
    return flag in _TRUE


def _opt_bool(parent: Element, tag: str) -> bool | None:
    text = _text(parent, tag)
    return None if text is None else _bool(text, tag)


def _decimal(text: str, where: str) -> Decimal:
    if _DECIMAL.fullmatch(text) is None:
        raise Form4Error(f"<{where}> {text!r} is not a decimal number")
    return Decimal(text)


def _notes(element: Element) -> tuple[str, ...]:
    return tuple(_attr_id(n, "footnoteId") for n in element.findall("footnoteId"))


def _raw(parent: Element, tag: str) -> tuple[str | None, tuple[str, ...]] | None:
    found = parent.find(tag)
    if found is None:
        return None
    return _text(found, "value"), _notes(found)


def _str_value(parent: Element, tag: str) -> Value[str]:
    raw = _raw(parent, tag) or (None, ())
    return Value(raw[0], raw[1])


def _dec_value(parent: Element, tag: str) -> Value[Decimal]:
    text, notes = _raw(parent, tag) or (None, ())
    return Value(None if text is None else _decimal(text, f"{tag}/value"), notes)


def _date_value(parent: Element, tag: str) -> Value[date]:
    text, notes = _raw(parent, tag) or (None, ())
    return Value(None if text is None else _date(text, f"{tag}/value"), notes)


def _opt_date_value(parent: Element, tag: str) -> Value[date] | None:
    return None if parent.find(tag) is None else _date_value(parent, tag)


def _opt_str_value(parent: Element, tag: str) -> Value[str] | None:
    return None if parent.find(tag) is None else _str_value(parent, tag)


def _issuer(el: Element) -> Issuer:
    return Issuer(
        cik=_text(el, "issuerCik", "issuer", required=True) or "",
        name=_text(el, "issuerName") or "",
        trading_symbol=_text(el, "issuerTradingSymbol"),
    )


def _owner(el: Element, where: str) -> ReportingOwner:
    ident = _need(el, "reportingOwnerId", where)
    rel = el.find("reportingOwnerRelationship")
    rel = rel if rel is not None else Element("reportingOwnerRelationship")
    addr = el.find("reportingOwnerAddress")
    flags = {t: _bool(_text(rel, t), f"{where}/{t}") for t in _RELATIONSHIP}
    return ReportingOwner(
        cik=_text(ident, "rptOwnerCik", where, required=True) or "",
        name=_text(ident, "rptOwnerName") or "",
        is_director=flags["isDirector"],
        is_officer=flags["isOfficer"],
        is_ten_percent_owner=flags["isTenPercentOwner"],
        is_other=flags["isOther"],
        officer_title=_text(rel, "officerTitle"),
        other_text=_text(rel, "otherText"),
        address=None if addr is None else OwnerAddress(*(_text(addr, t) for t in _ADDRESS)),
    )


_RELATIONSHIP = ("isDirector", "isOfficer", "isTenPercentOwner", "isOther")
_ADDRESS = (
    "rptOwnerStreet1",
    "rptOwnerStreet2",
    "rptOwnerCity",
    "rptOwnerState",
    "rptOwnerZipCode",
    "rptOwnerStateDescription",
)


def _coding(el: Element, where: str) -> Coding:
    found = _need(el, "transactionCoding", where)
    return Coding(
        code=_text(found, "transactionCode", where, required=True) or "",
        form_type=_text(found, "transactionFormType") or "4",
        equity_swap=_bool(_text(found, "equitySwapInvolved"), "equitySwapInvolved"),
        footnotes=_notes(found),
    )


def _amounts(el: Element, where: str) -> Amounts:
    found = _need(el, "transactionAmounts", where)
    code = _str_value(found, "transactionAcquiredDisposedCode")
    if code.value is None:
        raise Form4Error(f"missing transactionAcquiredDisposedCode/value in {where}")
    return Amounts(
        _dec_value(found, "transactionShares"), _dec_value(found, "transactionPricePerShare"), code
    )


def _after(el: Element) -> Value[Decimal]:
    post = el.find("postTransactionAmounts")
    if post is None:
        return Value()
    return _dec_value(post, "sharesOwnedFollowingTransaction")


def _ownership(el: Element) -> Ownership:
    found = el.find("ownershipNature")
    if found is None:
        return Ownership(Value())
    return Ownership(
        _str_value(found, "directOrIndirectOwnership"),
        _opt_str_value(found, "natureOfOwnership"),
    )


def _title(el: Element, where: str) -> Value[str]:
    _need(el, "securityTitle", where)
    return _str_value(el, "securityTitle")


def _underlying(el: Element) -> tuple[Value[str], Value[Decimal]]:
    found = el.find("underlyingSecurity")
    if found is None:
        return Value(), Value()
    return (
        _str_value(found, "underlyingSecurityTitle"),
        _dec_value(found, "underlyingSecurityShares"),
    )


def _when(el: Element, where: str) -> Value[date]:
    when = _date_value(el, "transactionDate")
    if when.value is None:
        raise Form4Error(f"missing transactionDate/value in {where}")
    return when


def _non_derivative(el: Element, where: str) -> NonDerivativeTransaction:
    return NonDerivativeTransaction(
        security_title=_title(el, where),
        transaction_date=_when(el, where),
        coding=_coding(el, where),
        amounts=_amounts(el, where),
        shares_after=_after(el),
        ownership=_ownership(el),
        deemed_execution_date=_opt_date_value(el, "deemedExecutionDate"),
        timeliness=_opt_str_value(el, "transactionTimeliness"),
    )


def _non_derivative_holding(el: Element, where: str) -> NonDerivativeHolding:
    return NonDerivativeHolding(_title(el, where), _after(el), _ownership(el))


def _derivative(el: Element, where: str) -> DerivativeTransaction:
    under_title, under_shares = _underlying(el)
    return DerivativeTransaction(
        security_title=_title(el, where),
        exercise_price=_dec_value(el, "conversionOrExercisePrice"),
        transaction_date=_when(el, where),
        coding=_coding(el, where),
        amounts=_amounts(el, where),
        exercise_date=_date_value(el, "exerciseDate"),
        expiration_date=_date_value(el, "expirationDate"),
        underlying_title=under_title,
        underlying_shares=under_shares,
        shares_after=_after(el),
        ownership=_ownership(el),
        deemed_execution_date=_opt_date_value(el, "deemedExecutionDate"),
        timeliness=_opt_str_value(el, "transactionTimeliness"),
    )


def _derivative_holding(el: Element, where: str) -> DerivativeHolding:
    under_title, under_shares = _underlying(el)
    return DerivativeHolding(
        security_title=_title(el, where),
        exercise_price=_dec_value(el, "conversionOrExercisePrice"),
        exercise_date=_date_value(el, "exerciseDate"),
        expiration_date=_date_value(el, "expirationDate"),
        underlying_title=under_title,
        underlying_shares=under_shares,
        shares_after=_after(el),
        ownership=_ownership(el),
    )


def _rows(root: Element, path: str, build: Callable[[Element, str], R]) -> tuple[R, ...]:
    out = []
    for n, el in enumerate(root.findall(path), 1):
        where = f"{path}[{n}]"
        try:
            out.append(build(el, where))
        except Form4Error as exc:
            message = str(exc)
            raise Form4Error(message if where in message else f"{where}: {message}") from None
    return tuple(out)


# -- writing ----------------------------------------------------------------------------------


def write_form4(form: Form4) -> str:
    """Render ``form`` as an ``ownershipDocument`` with its elements in schema order."""
    root = Element("ownershipDocument")
    _put(root, "schemaVersion", form.schema_version or None)
    _put(root, "documentType", form.document_type)
    _put(root, "periodOfReport", form.period_of_report.isoformat())
    if form.date_of_original_submission is not None:
        _put(root, "dateOfOriginalSubmission", form.date_of_original_submission.isoformat())
    _put(root, "notSubjectToSection16", _flag(form.not_subject_to_section16))
    issuer = SubElement(root, "issuer")
    _put(issuer, "issuerCik", form.issuer.cik)
    _put(issuer, "issuerName", form.issuer.name)
    _put(issuer, "issuerTradingSymbol", form.issuer.trading_symbol)
    for owner in form.reporting_owners:
        _write_owner(SubElement(root, "reportingOwner"), owner)
    _put(root, "aff10b5One", _flag(form.aff10b5_one))
    if form.non_derivative_transactions or form.non_derivative_holdings:
        table = SubElement(root, "nonDerivativeTable")
        for tx in form.non_derivative_transactions:
            row = SubElement(table, "nonDerivativeTransaction")
            _val(row, "securityTitle", tx.security_title)
            _write_dated(row, tx)
            _write_amounts(row, tx.amounts)
            _write_after(row, tx.shares_after, tx.ownership)
        for holding in form.non_derivative_holdings:
            row = SubElement(table, "nonDerivativeHolding")
            _val(row, "securityTitle", holding.security_title)
            _write_after(row, holding.shares_after, holding.ownership)
    if form.derivative_transactions or form.derivative_holdings:
        table = SubElement(root, "derivativeTable")
        for dtx in form.derivative_transactions:
            row = SubElement(table, "derivativeTransaction")
            _val(row, "securityTitle", dtx.security_title)
            _val(row, "conversionOrExercisePrice", dtx.exercise_price)
            _write_dated(row, dtx)
            _write_amounts(row, dtx.amounts)
            _write_terms(row, dtx.exercise_date, dtx.expiration_date)
            _write_underlying(row, dtx.underlying_title, dtx.underlying_shares)
            _write_after(row, dtx.shares_after, dtx.ownership)
        for dh in form.derivative_holdings:
            row = SubElement(table, "derivativeHolding")
            _val(row, "securityTitle", dh.security_title)
            _val(row, "conversionOrExercisePrice", dh.exercise_price)
            _write_terms(row, dh.exercise_date, dh.expiration_date)
            _write_underlying(row, dh.underlying_title, dh.underlying_shares)
            _write_after(row, dh.shares_after, dh.ownership)
    if form.footnotes:
        notes = SubElement(root, "footnotes")
        for note in form.footnotes:
            SubElement(notes, "footnote", id=note.id).text = note.text
    _put(root, "remarks", form.remarks)
    for signature in form.signatures:
        signed = SubElement(root, "ownerSignature")
        _put(signed, "signatureName", signature.name)
        _put(signed, "signatureDate", signature.signature_date.isoformat())
    indent(root)
    return '<?xml version="1.0"?>\n' + tostring(root, encoding="unicode") + "\n"


def _put(parent: Element, tag: str, text: str | None) -> None:
    if text is not None:
        SubElement(parent, tag).text = text


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "0")


def _format(value: str | Decimal | date) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")  # xs:decimal has no exponent notation
    if isinstance(value, date):
        return value.isoformat()
    return value


def _val(parent: Element, tag: str, value: Value[str] | Value[Decimal] | Value[date]) -> None:
    element = SubElement(parent, tag)
    if value.value is not None:
        SubElement(element, "value").text = _format(value.value)
    for note in value.footnotes:
        SubElement(element, "footnoteId", id=note)


def _write_owner(element: Element, owner: ReportingOwner) -> None:
    ident = SubElement(element, "reportingOwnerId")
    _put(ident, "rptOwnerCik", owner.cik)
    _put(ident, "rptOwnerName", owner.name)
    if owner.address is not None:
        address = SubElement(element, "reportingOwnerAddress")
        for tag, text in zip(_ADDRESS, _address_fields(owner.address), strict=True):
            _put(address, tag, text)
    rel = SubElement(element, "reportingOwnerRelationship")
    _put(rel, "isDirector", _flag(owner.is_director))
    _put(rel, "isOfficer", _flag(owner.is_officer))
    _put(rel, "isTenPercentOwner", _flag(owner.is_ten_percent_owner))
    _put(rel, "isOther", _flag(owner.is_other))
    _put(rel, "officerTitle", owner.officer_title)
    _put(rel, "otherText", owner.other_text)


def _address_fields(a: OwnerAddress) -> tuple[str | None, ...]:
    return (a.street1, a.street2, a.city, a.state, a.zip_code, a.state_description)


def _write_dated(row: Element, tx: NonDerivativeTransaction | DerivativeTransaction) -> None:
    _val(row, "transactionDate", tx.transaction_date)
    if tx.deemed_execution_date is not None:
        _val(row, "deemedExecutionDate", tx.deemed_execution_date)
    coding = tx.coding
    element = SubElement(row, "transactionCoding")
    _put(element, "transactionFormType", coding.form_type)
    _put(element, "transactionCode", coding.code)
    _put(element, "equitySwapInvolved", _flag(coding.equity_swap))
    for note in coding.footnotes:
        SubElement(element, "footnoteId", id=note)
    if tx.timeliness is not None:
        _val(row, "transactionTimeliness", tx.timeliness)


def _write_amounts(row: Element, amounts: Amounts) -> None:
    element = SubElement(row, "transactionAmounts")
    _val(element, "transactionShares", amounts.shares)
    _val(element, "transactionPricePerShare", amounts.price)
    _val(element, "transactionAcquiredDisposedCode", amounts.acquired_disposed)


def _write_terms(row: Element, exercise: Value[date], expiration: Value[date]) -> None:
    _val(row, "exerciseDate", exercise)
    _val(row, "expirationDate", expiration)


def _write_underlying(row: Element, title: Value[str], shares: Value[Decimal]) -> None:
    element = SubElement(row, "underlyingSecurity")
    _val(element, "underlyingSecurityTitle", title)
    _val(element, "underlyingSecurityShares", shares)


def _write_after(row: Element, shares: Value[Decimal], ownership: Ownership) -> None:
    post = SubElement(row, "postTransactionAmounts")
    _val(post, "sharesOwnedFollowingTransaction", shares)
    nature = SubElement(row, "ownershipNature")
    _val(nature, "directOrIndirectOwnership", ownership.direct_or_indirect)
    if ownership.nature is not None:
        _val(nature, "natureOfOwnership", ownership.nature)
