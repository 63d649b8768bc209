"""The HTTP API: views by audience, their serializers, fields, filters, credentials, errors and schema."""
