"""A lender's own books, loaded from files: the import format, the importer, and the demo export."""
