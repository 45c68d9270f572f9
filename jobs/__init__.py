"""Scheduled jobs and the worker that runs them: thin adapters over `models/`."""
