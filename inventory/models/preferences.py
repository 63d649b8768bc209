"""What a person chose for the back office, kept with their account."""

from django.conf import settings
from django.db import models


class StaffPreference(models.Model):
    """The language a person picked in the back office's header: theirs on every browser."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(max_length=16, choices=settings.LANGUAGES)

    class Meta:
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _ in settings.LANGUAGES]),
                name="staffpreference_language_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
