"""The raw-data contract: one Parquet file per table, the only way data enters dbt.

Every loader (Olist, Online Retail, the demo brand, the mapping loader) writes
exactly these tables with exactly these columns and types. A retailer may also
write the folder by hand: staging reads a missing optional table as empty and a
missing optional column as null, and quarantines values that do not cast to the
contract's type. Required tables and columns must be there (`clientele check`
says which are not). `models/staging/_sources.yml` documents the same columns
with their types and requiredness; a pytest keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    required: bool = False

    @property
    def sql_type(self) -> str:
        """The column's type in DuckDB SQL (the `data_type` in _sources.yml)."""
        return SQL_TYPES[str(self.type)]


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = True

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def file_name(self) -> str:
        return f"{self.name}.parquet"


TS = pa.timestamp("us")
S = pa.string()
SQL_TYPES = {
    "string": "varchar", "timestamp[us]": "timestamp", "date32[day]": "date", "int32": "integer",
    "double": "double", "bool": "boolean",
}


def key(name: str, type_: pa.DataType, description: str) -> Column:
    """A column every file of its table must have (staging cannot work without it)."""
    return Column(name, type_, description, required=True)


TABLES: tuple[Table, ...] = (
    Table(
        "customers",
        "one row per customer (a person, not an account)",
        ("customer_id",),
        (
            key("customer_id", S, "Stable identifier of the person."),
            Column("first_seen_at", TS, "When the customer was first known (account or first order)."),
            Column("country", S, "ISO-like market code or country name of the customer."),
            Column("city", S, "City, free text; may be null."),
            Column("gender", S, "F, M, X or null when unknown."),
            Column("birth_year", pa.int32(), "Year of birth; often null."),
            Column("home_store_id", S, "Store the customer is attached to; null for online-only."),
            Column("advisor_id", S, "Sales advisor in charge of the customer; may be null."),
            Column("email_opt_in", pa.bool_(), "Consented to marketing e-mail."),
            Column("phone_opt_in", pa.bool_(), "Consented to be called or messaged by an advisor."),
        ),
    ),
    Table(
        "products",
        "one row per product (SKU)",
        ("product_id",),
        (
            key("product_id", S, "Stable product identifier (SKU / stock code)."),
            Column("name", S, "Product name; may be null."),
            Column("category", S, "Top level of the merchandise hierarchy."),
            Column("family", S, "Second level of the hierarchy."),
            Column("subfamily", S, "Third level of the hierarchy."),
            Column("collection_id", S, "Collection the product belongs to; null for permanent lines."),
            Column("color", S, "Main colour."),
            Column("material", S, "Main material."),
            Column("gender_line", S, "women, men or unisex."),
            Column("list_price", pa.float64(), "Full retail price, in the brand's currency."),
            Column("unit_cost", pa.float64(), "Cost of goods per unit; null when unknown."),
            Column("is_merchandise", pa.bool_(), "False for fees, postage and adjustment codes."),
            Column("is_discontinued", pa.bool_(), "True when the product can no longer be sold."),
        ),
    ),
    Table(
        "collections",
        "one row per seasonal collection",
        ("collection_id",),
        (
            key("collection_id", S, "Collection identifier."),
            Column("name", S, "Collection name, e.g. 'Spring-Summer 2025'."),
            key("launch_date", pa.date32(), "Launch date; the upcoming collection has no sales yet."),
        ),
        required=False,
    ),
    Table(
        "orders",
        "one row per order (a return document is its own order)",
        ("order_id",),
        (
            key("order_id", S, "Order or invoice identifier."),
            key("customer_id", S, "Who ordered; null when the sale is anonymous."),
            key("ordered_at", TS, "When the order was placed."),
            Column("channel", S, "store or online."),
            Column("store_id", S, "Store of the sale; null online."),
            Column("country", S, "Market of the sale."),
            Column("status", S, "Source status, e.g. delivered, canceled, returned."),
            Column("delivered_at", TS, "When the order reached the customer; null if unknown."),
            Column("promised_delivery_at", TS, "Delivery date promised at order; null if unknown."),
        ),
    ),
    Table(
        "order_lines",
        "one row per order line",
        ("order_id", "line_number"),
        (
            key("order_id", S, "Order the line belongs to."),
            key("line_number", pa.int32(), "Position of the line in the order, from 1."),
            key("product_id", S, "Product sold."),
            key("quantity", pa.int32(), "Units; negative on a return."),
            key("unit_price", pa.float64(), "Price per unit actually charged before line discount."),
            Column("discount", pa.float64(), "Discount on the whole line, in currency, >= 0."),
        ),
    ),
    Table(
        "reviews",
        "one row per review of an order",
        ("review_id", "order_id"),
        (
            key("review_id", S, "Review identifier (with order_id, the key)."),
            key("order_id", S, "Order reviewed."),
            key("score", pa.int32(), "Satisfaction from 1 (bad) to 5 (excellent)."),
            Column("created_at", TS, "When the review was written."),
        ),
        required=False,
    ),
    Table(
        "web_events",
        "one row per browsing event",
        ("event_id",),
        (
            key("event_id", S, "Event identifier."),
            key("customer_id", S, "Identified visitor."),
            key("product_id", S, "Product viewed or added to cart."),
            key("event_type", S, "view or add_to_cart."),
            key("occurred_at", TS, "When it happened."),
        ),
        required=False,
    ),
    Table(
        "email_events",
        "one row per e-mail event",
        ("event_id",),
        (
            key("event_id", S, "Event identifier."),
            key("customer_id", S, "Recipient."),
            Column("campaign_id", S, "E-mail campaign."),
            key("event_type", S, "sent, open or click."),
            key("occurred_at", TS, "When it happened."),
        ),
        required=False,
    ),
    Table(
        "stores",
        "one row per store",
        ("store_id",),
        (
            key("store_id", S, "Store identifier."),
            Column("name", S, "Store name."),
            Column("country", S, "Market of the store."),
            Column("city", S, "City of the store."),
            Column("advisor_count", pa.int32(), "Sales advisors working in the store."),
            Column("advisor_capacity", pa.int32(), "Client contacts one advisor can make per campaign."),
        ),
        required=False,
    ),
    Table(
        "stock",
        "one row per store and product at a date",
        ("store_id", "product_id"),
        (
            key("store_id", S, "Store holding the stock."),
            key("product_id", S, "Product."),
            key("quantity", pa.int32(), "Units on hand; 0 when sold out."),
            Column("as_of", pa.date32(), "Date of the stock count."),
        ),
        required=False,
    ),
    Table(
        "campaign_contacts",
        "one row per client targeted by a launch campaign",
        ("campaign_id", "customer_id"),
        (
            key("campaign_id", S, "Launch campaign."),
            key("customer_id", S, "Client targeted."),
            Column("collection_id", S, "Collection the campaign promoted."),
            Column("contacted_at", TS, "When the advisor contacted the client; null for control."),
            Column("channel", S, "phone, email or store."),
            Column("is_control", pa.bool_(), "Held out from contact to measure lift."),
            Column("converted", pa.bool_(), "Bought from the collection within the campaign window."),
        ),
        required=False,
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def empty_table(name: str) -> pa.Table:
    """An empty table with the contract's columns, for tables a dataset lacks."""
    return TABLES_BY_NAME[name].schema.empty_table()
