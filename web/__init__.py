"""keyward's HTTP edge on aiohttp: middlewares, routes, the REST endpoints and the pages.

It calls into `schema/` (the GraphQL view's schema and context) and `models/` (the domain);
neither of those imports it.
"""
