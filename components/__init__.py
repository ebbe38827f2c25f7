"""Reusable Pulumi components of the environments project."""
