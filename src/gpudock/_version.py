"""The one place gpudock's version is written (pyproject.toml reads it; the CLI and run summaries show it)."""

__version__ = "0.1.0"
