"""gunicorn's settings for the Procfile's web process (`--config config/gunicorn.conf.py`).

With PROMETHEUS_MULTIPROC_DIR each worker counts into files of its own there, and /metrics adds
them up (docs/monitoring.md); a worker that exits has its files marked dead here, in the master.
"""

from inventory.metrics import mark_process_dead


def child_exit(server, worker) -> None:
    mark_process_dead(worker.pid)
