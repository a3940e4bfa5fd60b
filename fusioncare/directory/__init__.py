"""Provider directory: NPPES import, geocoding, search and ranking."""
