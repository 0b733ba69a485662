"""The anonymous page cache: page versions bumped by every write, pages kept by version."""
