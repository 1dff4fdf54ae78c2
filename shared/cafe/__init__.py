"""Café Compute's domain package: one café, whichever compute serves it.

Layers, inner to outer: ``cafe.domain`` (menu, orders, settings: pure), ``cafe.service``
(use cases), ``cafe.stores`` (memory / SQLite / DynamoDB behind one interface) and
``cafe.api`` (the HTTP-neutral request handling that the three runtimes wrap).
"""

from cafe.config import Config
from cafe.errors import CafeError
from cafe.service import CafeService, LineRequest, OrderRequest

__all__ = ["CafeError", "CafeService", "Config", "LineRequest", "OrderRequest", "__version__"]
__version__ = "0.1.0"
