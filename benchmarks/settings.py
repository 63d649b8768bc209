"""The production settings plus the benchmark's baseline endpoint (benchmarks/urls.py).

Nothing else differs, so the real endpoints run exactly as they do in production;
the harness sets the public throttle rate high through its environment instead.
"""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
