"""Input and output shapes of the API, by subject."""
