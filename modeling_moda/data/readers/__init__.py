"""Catalog readers: each maps one source layout to `CatalogItem`s in the internal schema."""
