"""Shared plumbing used by two or more otemachi systems."""
