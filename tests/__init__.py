"""The test suite. Tests assert order and outcome, never wall-clock speed (speed goals and
their numbers live in ``bench/``), so the suite passes on a busy machine."""

#: How long a test waits for something that should happen promptly before calling it a
#: hang. Generous on purpose: every wait returns as soon as its condition holds, so this
#: costs nothing on a quiet machine and spares a loaded one (two cores shared by many jobs)
#: from failing for being slow. A test that needs "fast" proves it by order instead: the
#: thing happened before something slow could have (a stall, a long pause, a sleep).
HANG_S = 60.0
