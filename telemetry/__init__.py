"""What an operator sees of a running keyward process: Prometheus metrics, structured logs and
request ids.

A neutral package: the HTTP edge (`web/`), the GraphQL adapters (`schema/`) and the jobs
(`jobs/`) record into it; the domain (`models/`) never does.
"""
