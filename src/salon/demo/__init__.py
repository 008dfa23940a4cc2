"""Synthetic demo data: a realistic, entirely invented MuseumWeek (``salon demo generate``) and
the main job that imports it and shows what the archive holds (``salon demo``).

>>> from salon.demo.generator import generate
>>> truth = generate("salon-demo", seed=2015, institutions=300, posts=5_000)   # doctest: +SKIP
>>> truth["campaign_posts"]["total"]                                              # doctest: +SKIP
"""
