"""The directory of actors: organisations, their offers and needs, matches, *mises en relation*."""
