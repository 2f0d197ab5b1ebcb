"""harmscope: violence reduction analytics for community safety partnerships.

Data flows one way: sources -> store -> analyses -> presenters.
"""

__version__ = "0.1.0"

from harmscope.errors import HarmscopeError  # noqa: E402
from harmscope.store import Store  # noqa: E402

__all__ = ["HarmscopeError", "Store", "__version__"]
