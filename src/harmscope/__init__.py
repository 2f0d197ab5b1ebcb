"""harmscope: violence reduction analytics for community safety partnerships.

Data flows one way: sources -> store -> analyses -> presenters.
"""

__version__ = "0.1.0"

from harmscope.errors import HarmscopeError  # noqa: E402

__all__ = ["HarmscopeError", "Store", "__version__"]


def __getattr__(name: str):
    # `Store` is loaded on first use (PEP 562): it brings in DuckDB, and `import harmscope`
    # (which every submodule import runs, the CLI's help screen included) should not.
    if name == "Store":
        from harmscope.store import Store

        return Store
    raise AttributeError(f"module 'harmscope' has no attribute {name!r}")
