"""Administration pages: themes (more settings come with their features)."""
