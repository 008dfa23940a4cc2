"""What leaves Salon and must last: exports (``publish.exports``), reports and stories.

Each takes its figures from :mod:`salon.campaigns`, never recomputes them (DESIGN.md, Flow).
"""
