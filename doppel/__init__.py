"""doppel: your own grounded AI agent, built from what you already have, on open models."""

from doppel.config import Settings

__version__ = "0.1.0"
__all__ = ["Settings", "__version__"]
