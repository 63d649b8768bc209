"""A person's saved back-office choices."""

from inventory.models import StaffPreference


def preferred_language(user) -> str | None:
    """The language the person saved, or None (anonymous, or never chose one)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return StaffPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
