"""Strings of Django's own admin templates that its Simplified Chinese catalogue lacks (Django 5.2).

Marked here so that makemessages puts them in our catalogue, which comes first
(LOCALE_PATHS): the app list's table headers, read out by screen readers.
"""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)
