"""The global filters: one frozen (hashable) object shared by every page and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, fields

# filter field -> (dimension name used in SQL, label)
DIMENSIONS = {
    "families": ("family", "Family"),
    "skus": ("sku", "SKU"),
    "regions": ("region", "Region"),
    "segments": ("segment", "Segment"),
    "customers": ("customer_id", "Customer"),
    "work_centers": ("work_center", "Work center"),
}


@dataclass(frozen=True)
class Filters:
    """Selected values per dimension; an empty tuple means "all"."""

    families: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    work_centers: tuple[str, ...] = ()

    def __post_init__(self):
        """Each field is a tuple of texts (None = all); anything else is a ValueError naming the filter, not a
        database error later (values always reach SQL as parameters, never as SQL text)."""
        for f in fields(self):
            values = getattr(self, f.name)
            values = () if values is None else values
            if isinstance(values, str | bytes) or not isinstance(values, tuple | list | set | frozenset):
                raise ValueError(f"The {DIMENSIONS[f.name][1].lower()} filter is a list of values, not {values!r}.")
            bad = [v for v in values if not isinstance(v, str)]
            if bad:
                raise ValueError(f"The {DIMENSIONS[f.name][1].lower()} filter holds text values, not {bad[0]!r}.")
            object.__setattr__(self, f.name, tuple(values))

    def active(self) -> dict[str, tuple[str, ...]]:
        """Dimension (SQL column name) -> selected values, for the filters that are set."""
        return {DIMENSIONS[f.name][0]: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def not_applied(self, dims) -> list[str]:
        """Lower-case labels of the filters that are set but that a view cut only by ``dims`` (SQL dimension
        names, e.g. a supply plan's family, sku, work_center) cannot apply: ``["region", "segment"]``."""
        return [DIMENSIONS[f.name][1].lower() for f in fields(self)
                if getattr(self, f.name) and DIMENSIONS[f.name][0] not in dims]

    def describe(self) -> str:
        parts = [f"{DIMENSIONS[f.name][1]}: {', '.join(getattr(self, f.name))}" for f in fields(self) if getattr(self, f.name)]
        return "; ".join(parts) if parts else "all data"

    @classmethod
    def from_lists(cls, **kw) -> Filters:
        return cls(**{k: tuple(sorted(set(v or ()))) for k, v in kw.items()})
