"""Full-text search: a normalised index of thread titles and post bodies, the /search page."""
