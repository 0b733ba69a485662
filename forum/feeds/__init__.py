"""Atom feeds: latest threads, a theme's threads, a thread's posts, news."""
