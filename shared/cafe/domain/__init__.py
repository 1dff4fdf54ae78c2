"""The café's domain model: menu, orders and store settings. No I/O, no HTTP, no AWS."""
