"""A person's back-office choices, saved with their account."""

from django.conf import settings

from inventory.exceptions import InvalidInput
from inventory.models import StaffPreference


def remember_language(*, user_id: int, language: str) -> None:
    """The language `user_id` picked: theirs from now on, on every browser."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(f"No such language: {language!r}.", language=language)
    StaffPreference.objects.update_or_create(user_id=user_id, defaults={"language": language})
