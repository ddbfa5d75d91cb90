"""Listener: keeps sales reps close to the customers they already have."""

__version__ = "0.1.0"
