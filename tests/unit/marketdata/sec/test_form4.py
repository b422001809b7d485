"""Form 4 parser and writer: hand-written EDGAR-schema fixtures, round trips and bad input."""

from __future__ import annotations

import contextlib
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from quantumtrade.marketdata.sec import (
    Amounts,
    Coding,
    Footnote,
    Form4,
    Form4Error,
    Issuer,
    NonDerivativeTransaction,
    Ownership,
    ReportingOwner,
    Signature,
    Value,
    parse_form4,
    write_form4,
)

FIXTURES = Path(__file__).resolve().parents[3] / "data" / "form4"
FILES = sorted(FIXTURES.glob("*.xml"))


def load(name: str) -> Form4:
    return parse_form4((FIXTURES / name).read_bytes())


def test_fixtures_cover_the_awkward_cases() -> None:
    assert len(FILES) >= 6


def test_sale_keeps_footnotes_on_price_shares_and_coding() -> None:
    form = load("sale_10b5_1_weighted_price.xml")
    assert (form.schema_version, form.document_type) == ("X0508", "4")
    assert form.period_of_report == date(2024, 5, 14)
    assert form.issuer == Issuer("0001765432", "Northwind Analytics, Inc.", "NWAN")
    (owner,) = form.reporting_owners
    assert owner.cik == "0001823001" and owner.name == "Marlow Jennifer A"
    assert owner.is_officer and not owner.is_director
    assert owner.officer_title == "Chief Financial Officer"
    assert owner.address is not None and owner.address.city == "OAKLAND"
    assert form.aff10b5_one is True and form.not_subject_to_section16 is False
    first, second = form.non_derivative_transactions
    assert first.code == "S" and not first.acquired
    assert first.transaction_date == Value(date(2024, 5, 14))
    assert first.amounts.shares == Value(Decimal("3812"), ("F2",))
    assert first.amounts.price == Value(Decimal("131.4872"), ("F3",))
    assert first.shares_after == Value(Decimal("96188"))
    assert "Rule 10b5-1" in form.notes(first.coding)[0]
    assert "$131.02 to $131.99" in form.notes(first.amounts.price)[0]
    assert second.amounts.price.footnotes == ("F4",)
    assert first.deemed_execution_date == Value()  # present but empty
    assert form.signatures == (
        Signature("/s/ Daniel Okafor, by power of attorney", date(2024, 5, 16)),
    )


def test_holding_rows_carry_indirect_ownership() -> None:
    form = load("sale_10b5_1_weighted_price.xml")
    (trust,) = form.non_derivative_holdings
    assert trust.shares_after.value == Decimal(42500)
    assert trust.ownership.direct_or_indirect.value == "I"
    assert trust.ownership.nature == Value("By Marlow Family Trust", ("F5",))


def test_option_exercise_with_same_day_sale() -> None:
    form = load("option_exercise_and_sale.xml")
    exercise, sale = form.non_derivative_transactions
    assert (exercise.code, exercise.acquired, exercise.amounts.price.value) == (
        "M",
        True,
        Decimal("45.25"),
    )
    assert (sale.code, sale.amounts.shares.value) == ("S", Decimal(25000))
    (option,) = form.derivative_transactions
    assert option.code == "M" and option.amounts.acquired_disposed.value == "D"
    assert option.exercise_price == Value(Decimal("45.25"))
    assert option.exercise_date == Value(None, ("F2",))  # given only by a footnote
    assert option.expiration_date == Value(date(2026, 3, 1))
    assert option.underlying_title.value == "Common Stock"
    assert option.underlying_shares.value == Decimal(25000)
    assert option.shares_after.value == Decimal(50000)
    (held,) = form.derivative_holdings
    assert held.exercise_price.value == Decimal("88.10")
    assert form.remarks == "Exercise and sale of expiring options."
    owner = form.reporting_owners[0]
    assert owner.is_director and owner.is_officer and owner.officer_title == "Chairman and CEO"


def test_joint_filers_and_a_price_given_only_by_footnote() -> None:
    form = load("fund_and_general_partner.xml")
    fund, partner = form.reporting_owners
    assert fund.name == "Granite Peak Capital Partners III, L.P."
    assert fund.is_ten_percent_owner and not fund.is_director  # 'true' / 'false' spelled out
    assert partner.is_other and partner.other_text == "General partner of a 10% owner"
    (buy,) = form.non_derivative_transactions
    assert buy.code == "P" and buy.acquired
    assert buy.amounts.price == Value(None, ("F1",))
    assert "$7.85 per share" in form.notes(buy.amounts.price)[0]
    assert buy.ownership == Ownership(Value("I"), Value("See footnote", ("F2",)))
    assert len(form.signatures) == 2
    assert form.aff10b5_one is False


def test_grant_reported_with_holdings_only_in_table_one() -> None:
    form = load("director_rsu_grant_holdings_only.xml")
    assert form.non_derivative_transactions == ()
    assert [h.shares_after.value for h in form.non_derivative_holdings] == [
        Decimal(18764),
        Decimal(2200),
    ]
    (rsu,) = form.derivative_transactions
    assert rsu.code == "A" and rsu.amounts.price.value == Decimal(0)
    assert rsu.exercise_price == Value(None, ("F1",))
    assert rsu.exercise_date.footnotes == rsu.expiration_date.footnotes == ("F2",)
    owner = form.reporting_owners[0]
    # Omitted relationship flags read as false.
    assert owner.is_director and not owner.is_officer and not owner.is_ten_percent_owner


def test_gifts_at_zero_price_or_with_no_price() -> None:
    form = load("gifts_zero_price.xml")
    first, second = form.non_derivative_transactions
    assert first.code == second.code == "G"
    assert first.amounts.price == Value(Decimal(0))
    assert second.amounts.price == Value()  # the element is absent
    assert form.notes(first.coding) == [
        "Gift of shares to a donor-advised fund for no consideration."
    ]
    assert form.not_subject_to_section16 is None and form.aff10b5_one is None


def test_amendment_with_late_award_and_fractional_shares() -> None:
    form = load("amendment_late_award.xml")
    assert form.is_amendment and form.document_type == "4/A"
    assert form.date_of_original_submission == date(2019, 3, 5)
    award, withheld = form.non_derivative_transactions
    assert award.deemed_execution_date == Value(date(2019, 3, 1))
    assert award.timeliness == Value("L")
    assert award.amounts.price.value == Decimal(0)
    assert award.shares_after == Value(Decimal("27915.5"), ("F2",))
    assert withheld.code == "F" and withheld.shares_after.value == Decimal("26304.5")
    assert form.remarks is not None and "omitted from the original" in form.remarks


def test_ten_percent_owner_buying_over_two_days() -> None:
    form = load("ten_percent_owner_purchases.xml")
    assert form.reporting_owners[0].is_ten_percent_owner
    rows = form.non_derivative_transactions
    assert [r.transaction_date.value for r in rows] == [date(2020, 3, 16), date(2020, 3, 17)]
    assert sum(r.amounts.shares.value or 0 for r in rows) == Decimal(250000)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_write_then_parse_gives_the_same_model(path: Path) -> None:
    form = parse_form4(path.read_bytes())
    xml = write_form4(form)
    assert parse_form4(xml) == form
    assert parse_form4(xml.encode()) == form


def test_writer_renders_a_built_model_in_schema_order() -> None:
    form = Form4(
        schema_version="X0508",
        document_type="4",
        period_of_report=date(2024, 1, 2),
        issuer=Issuer("0000000001", "Example & Sons <Holdings>", "EXS"),
        reporting_owners=(ReportingOwner("0000000002", "Doe Jane", is_director=True),),
        non_derivative_transactions=(
            NonDerivativeTransaction(
                Value("Common Stock"),
                Value(date(2024, 1, 2)),
                Coding("P"),
                Amounts(Value(Decimal("1E+3")), Value(Decimal("12.50"), ("F1",)), Value("A")),
                Value(Decimal(5000)),
                Ownership(Value("D")),
            ),
        ),
        footnotes=(Footnote("F1", "Weighted average price."),),
        signatures=(Signature("/s/ Jane Doe", date(2024, 1, 3)),),
    )
    xml = write_form4(form)
    assert parse_form4(xml) == form
    assert "<value>1000</value>" in xml  # xs:decimal has no exponent
    tags = ["<schemaVersion>", "<issuer>", "<reportingOwner>", "<nonDerivativeTable>"]
    positions = [xml.index(t) for t in [*tags, "<footnotes>", "<ownerSignature>"]]
    assert positions == sorted(positions)


MINIMAL = """<ownershipDocument><documentType>4</documentType>
<periodOfReport>2024-01-02</periodOfReport>
<issuer><issuerCik>1</issuerCik><issuerName>X</issuerName></issuer>
<reportingOwner><reportingOwnerId><rptOwnerCik>2</rptOwnerCik></reportingOwnerId>
</reportingOwner>{table}{notes}</ownershipDocument>"""


def row(code: str = "P", shares: str = "10", when: str = "2024-01-02", ad: str = "A") -> str:
    return (
        "<nonDerivativeTable><nonDerivativeTransaction><securityTitle><value>C</value>"
        f"</securityTitle><transactionDate><value>{when}</value></transactionDate>"
        f"<transactionCoding><transactionCode>{code}</transactionCode></transactionCoding>"
        f"<transactionAmounts><transactionShares><value>{shares}</value>"
        '<footnoteId id="F1"/></transactionShares>'
        f"<transactionAcquiredDisposedCode><value>{ad}</value>"
        "</transactionAcquiredDisposedCode></transactionAmounts>"
        "</nonDerivativeTransaction></nonDerivativeTable>"
    )


NOTE = '<footnotes><footnote id="F1">n</footnote></footnotes>'


def test_minimal_document_parses() -> None:
    form = parse_form4(MINIMAL.format(table=row(), notes=NOTE))
    (tx,) = form.non_derivative_transactions
    assert tx.amounts.shares == Value(Decimal(10), ("F1",))
    assert tx.amounts.price == Value() and tx.shares_after == Value()


@pytest.mark.parametrize(
    ("document", "names"),
    [
        ("<ownershipDocument><documentType>4", "well-formed"),
        ("<form><documentType>4</documentType></form>", "<form>"),
        (MINIMAL.replace("<issuerCik>1</issuerCik>", ""), "issuerCik"),
        (MINIMAL.replace("4</documentType>", "5</documentType>"), "documentType"),
        (MINIMAL.replace("2024-01-02</periodOfReport>", "01/02/2024</periodOfReport>"), "period"),
        (MINIMAL.format(table=row(shares="1,000"), notes=NOTE), "transactionShares/value"),
        (MINIMAL.format(table=row(shares="NaN"), notes=NOTE), "transactionShares/value"),
        (MINIMAL.format(table=row(shares="\u0661\u0660"), notes=NOTE), "transactionShares/value"),
        (MINIMAL.format(table=row(code="Q"), notes=NOTE), "nonDerivativeTransaction[1]"),
        (MINIMAL.format(table=row(ad="X"), notes=NOTE), "A/D"),
        (MINIMAL.format(table=row(when="2024-02-30"), notes=NOTE), "transactionDate"),
        (MINIMAL.format(table=row(), notes=""), "F1"),
        (
            MINIMAL.format(
                table="",
                notes='<footnotes><footnote id="F1">a</footnote>'
                '<footnote id="F1">b</footnote></footnotes>',
            ),
            "share an id",
        ),
        (
            MINIMAL.replace("<rptOwnerCik>2</rptOwnerCik>", "").format(table="", notes=""),
            "rptOwnerCik",
        ),
        (
            MINIMAL.replace(
                "</reportingOwnerId>",
                "</reportingOwnerId><reportingOwnerRelationship>"
                "<isDirector>yes</isDirector></reportingOwnerRelationship>",
            ),
            "isDirector",
        ),
    ],
)
def test_bad_documents_raise_form4_error_naming_the_element(document: str, names: str) -> None:
    with pytest.raises(Form4Error, match=names.replace("[", r"\[").replace("]", r"\]")):
        parse_form4(document.format(table="", notes=""))


def test_missing_owner_is_an_error() -> None:
    text = MINIMAL.format(table="", notes="")
    start, end = text.index("<reportingOwner>"), text.index("</reportingOwner>")
    with pytest.raises(Form4Error, match="reportingOwner"):
        parse_form4(text[:start] + text[end + len("</reportingOwner>") :])


@pytest.mark.parametrize(
    "attack",
    [
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<ownershipDocument>&b;</ownershipDocument>",
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<ownershipDocument>&x;</ownershipDocument>",
    ],
)
def test_entity_tricks_are_refused(attack: str) -> None:
    with pytest.raises(Form4Error):
        parse_form4(attack)


def test_undecodable_bytes_and_wrong_types_are_form4_errors() -> None:
    with pytest.raises(Form4Error):
        parse_form4(b'<?xml version="1.0" encoding="utf-8"?><ownershipDocument>\xff\xfe')
    with pytest.raises(Form4Error):
        parse_form4(42)  # type: ignore[arg-type]


def test_damaged_fixtures_raise_only_form4_error() -> None:
    rng = random.Random(4)
    texts = [p.read_text() for p in FILES]
    for _ in range(300):
        text = rng.choice(texts)
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randrange(1, 80))
        damaged = rng.choice([text[:a], text[:a] + text[b:], text[:a] + text[b:a:-1] + text[b:]])
        with contextlib.suppress(Form4Error):  # any other exception fails the test
            parse_form4(damaged)
