"""The API views, by audience: public, staff, internal (the order application)."""
