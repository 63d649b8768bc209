"""`make run`'s process manager: honcho on Procfile.dev, stopped cleanly by Ctrl-C.

    python -m config.run_dev --port 8000

honcho 2.0 sends SIGKILL to whatever still runs 5 seconds after the first process
stopped, and it cannot be told otherwise. The Celery worker on kombu's filesystem
transport needs about as long for its warm shutdown (it polls the queue folder in
cycles of up to 3 s, then closes its connection), so it was killed mid-shutdown now
and then. Here honcho waits up to STOP_WAIT_SECONDS instead. And honcho ends a stop
that a signal asked for with 130 or 143 whatever its processes did: when every
process exited 0, this ends with 0.
"""

import sys

from honcho import command, manager

STOP_WAIT_SECONDS = 30
# honcho's own exit status after SIGINT (Ctrl-C) and after SIGTERM.
STOPPED_BY_SIGNAL = frozenset({130, 143})


class CleanStopManager(manager.Manager):
    def loop(self) -> None:
        super().loop()
        exit_codes = [process.get("returncode") for process in self._processes.values()]
        if self.returncode in STOPPED_BY_SIGNAL and all(code == 0 for code in exit_codes):
            self.returncode = 0


def main(argv: list[str]) -> None:
    manager.KILL_WAIT = STOP_WAIT_SECONDS  # read by Manager.loop at each turn
    command.Manager = CleanStopManager
    command.main(["start", "--procfile", "Procfile.dev", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
