"""Shanting brain (山亭大脑): the Shanting District operations dashboard."""

__version__ = "0.1.0"
