"""Apply the numbered files in migrations/ with Peewee's own runner."""

from pathlib import Path

from playhouse.migrations import Runner

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def runner(database) -> Runner:
    # The runner needs the real database, not the proxy (STACK-NOTES).
    return Runner(getattr(database, "obj", database), directory=str(MIGRATIONS_DIR))


def upgrade(database, target: str | None = None) -> list[str]:
    """Apply pending migrations (up to target) and return their names."""
    return runner(database).up(target)


def downgrade(database, target: str | None = None) -> list[str]:
    """Revert the latest migration (or back through target) and return their names."""
    return runner(database).down(target)


def pending(database) -> list[str]:
    return [m.name for m in runner(database).status() if m.path and not m.applied]
