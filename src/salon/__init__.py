"""Salon: run, archive and measure hashtag campaigns and scheduled chats on social networks."""

__version__ = "0.1.0"
