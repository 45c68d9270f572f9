"""keyward's domain: the tortoise models and the operations on them.

`schema/` (GraphQL) and `jobs/` (the scheduler) both call into this package; it imports neither,
nor strawberry, aiohttp or APScheduler.
"""
