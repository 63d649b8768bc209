"""The API clients screen (built in full by the admin work of issue 11)."""
