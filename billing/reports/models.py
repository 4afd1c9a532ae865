"""No tables of its own: reports read the ledger rollups."""
