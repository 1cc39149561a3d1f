"""otemachi: three production deep-learning systems in one package."""

__version__ = "0.1.0"
