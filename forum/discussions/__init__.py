"""Themes, threads and their reply trees."""
