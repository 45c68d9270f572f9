"""keyward's schema history, written by tortoise's `makemigrations` (see `models/migrator.py`).
Generated files: not linted, not edited by hand."""
