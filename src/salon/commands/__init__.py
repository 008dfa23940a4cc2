"""Typer sub-apps and commands registered by ``salon.cli``."""
