"""Shared fixtures: the C programs of tests/fixtures/ (built by
crates/dbgkit-fixtures, shared with the Rust tests), and a session closed
after each test."""

import subprocess
from pathlib import Path

import pytest

import dbgkit

ROOT = Path(__file__).resolve().parents[3]

# Generous for one wait; a test that needs it has already failed.
PATIENCE = 30.0


class Fixtures:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def __getitem__(self, name: str) -> str:
        return str(self.dir / name)


@pytest.fixture(scope="session")
def fixtures() -> Fixtures:
    """Every program of tests/fixtures/manifest.txt, built once per run by
    the same builder the Rust tests use (crates/dbgkit-fixtures)."""
    result = subprocess.run(
        ["cargo", "run", "-q", "-p", "dbgkit-fixtures"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"building the fixtures failed:\n{result.stderr}"
    return Fixtures(Path(result.stdout.strip()))


@pytest.fixture
def session():
    s = dbgkit.Session()
    yield s
    s.close()


def run_to(session: dbgkit.Session, kind: str, **match) -> dbgkit.Event:
    """Continues events (the default way) until one of `kind` (whose
    attributes equal `match`) comes; returns it, waiting."""
    while True:
        event = session.wait_event(PATIENCE)
        assert event is not None, f"no {kind} event within {PATIENCE} s"
        if event.kind == kind and all(getattr(event, k) == v for k, v in match.items()):
            return event
        assert event.kind != "process-exited" or kind == "process-exited", f"exited before a {kind} event: {event!r}"
        session.continue_event()


def run_to_module(session: dbgkit.Session, name: str) -> dbgkit.Event:
    """Continues events until module `name` is loaded; returns that event, waiting."""
    while True:
        event = run_to(session, "module-loaded")
        if event.module.name == name:
            return event
        session.continue_event()


def run_to_exit(session: dbgkit.Session) -> list:
    """Runs the loop to its end; returns every event seen."""
    return list(session.events(timeout=PATIENCE))
