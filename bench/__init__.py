"""Salon's benchmarks (DESIGN.md, Performance). ``python -m bench`` runs them all."""
