"""Preset mapping files for common ERP exports (``mappings/*.toml``), and which one an uploaded file's header
suggests. A preset names its files with placeholders (``VBAK.csv``, ``sale_order_line.csv``); applied to the
files a user has, the placeholders become the real file names (in ``from`` and as views in ``sql``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analytics.ingest.mapfile import MappingFile, TableMapping, load_mapping, view_name

PRESETS_DIR = Path(__file__).resolve().parents[2] / "mappings"


@dataclass(frozen=True)
class Preset:
    """A preset mapping file and, per placeholder file, the header columns that identify it."""

    file: str
    label: str
    signatures: tuple[tuple[str, frozenset[str]], ...]
    required: tuple[str, ...]  # placeholder files the orders need

    def mapping(self) -> MappingFile:
        return load_mapping(PRESETS_DIR / self.file)


def _sig(**files: Iterable[str]) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((f.replace("__", "."), frozenset(c.lower() for c in cols)) for f, cols in files.items())


PRESETS: tuple[Preset, ...] = (
    Preset(
        "sap_sales.toml",
        "SAP sales documents (VBAK, VBAP, MARA, KNA1)",
        _sig(
            VBAK__csv=("VBELN", "AUDAT", "KUNNR", "VDATU"),
            VBAP__csv=("VBELN", "POSNR", "MATNR", "KWMENG", "NETWR"),
            MARA__csv=("MATNR", "MATKL"),
            KNA1__csv=("KUNNR", "NAME1", "LAND1", "KTOKD"),
        ),
        ("VBAK.csv", "VBAP.csv"),
    ),
    Preset(
        "odoo_sale_order_line.toml",
        "Odoo sale order lines",
        _sig(
            sale_order_line__csv=(
                "Order Reference",
                "Order Reference/Order Date",
                "Customer",
                "Product",
                "Quantity",
                "Unit Price",
            )
        ),
        ("sale_order_line.csv",),
    ),
    Preset(
        "dynamics365_sales_order_lines.toml",
        "Dynamics 365 sales order lines",
        _sig(
            SalesOrderLines__csv=("SALESORDERNUMBER", "LINENUMBER", "ITEMNUMBER", "ORDEREDSALESQUANTITY"),
            SalesOrderHeaders__csv=("SALESORDERNUMBER", "ORDERINGCUSTOMERACCOUNTNUMBER"),
        ),
        ("SalesOrderLines.csv", "SalesOrderHeaders.csv"),
    ),
)


def suggest_presets(headers: Mapping[str, Iterable[str]]) -> list[tuple[Preset, dict[str, str]]]:
    """Presets whose files the uploaded ones match: [(preset, {placeholder file: uploaded file})], best first.
    A file matches a placeholder when its header holds every identifying column (case does not matter); a
    preset is suggested when the files its orders need all match."""
    have = {name: {str(c).strip().lower() for c in cols} for name, cols in headers.items()}
    out = []
    for preset in PRESETS:
        assignment: dict[str, str] = {}
        for placeholder, needed in preset.signatures:
            match = next((n for n, cols in have.items() if needed <= cols and n not in assignment.values()), None)
            if match is not None:
                assignment[placeholder] = match
        if all(r in assignment for r in preset.required):
            out.append((preset, assignment))
    out.sort(key=lambda pa: -len(pa[1]))
    return out


def apply_preset(mapping: MappingFile, assignment: Mapping[str, str]) -> MappingFile:
    """The preset with its placeholder files replaced by the user's files. Tables read from a placeholder
    the user has no file for are left out (products and customers are then derived from the orders)."""
    tables = []
    for t in mapping.tables:
        if t.source is not None:
            if t.file not in assignment:
                continue
            sheet = f":{t.sheet}" if t.sheet else ""
            tables.append(TableMapping(t.table, assignment[t.file] + sheet, t.columns))
        else:
            sql = t.sql or ""
            for placeholder, actual in assignment.items():
                sql = re.sub(
                    rf"\b{re.escape(view_name(placeholder))}\b", f'"{view_name(actual)}"', sql, flags=re.IGNORECASE
                )
            tables.append(TableMapping(t.table, sql=sql))
    return MappingFile(mapping.name, tuple(tables))
