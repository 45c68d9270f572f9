"""Which JSON media type a GraphQL response is sent as, from the request's `Accept` header.

`application/graphql-response+json` (the GraphQL-over-HTTP draft's own type, whose status codes
tell request errors apart) when the client accepts it at least as much as `application/json`;
otherwise `application/json`, also when `Accept` is missing, `*/*`, or names neither.
"""

from __future__ import annotations

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def json_media_type(content_type: str) -> bool:
    """Whether a Content-Type header names JSON (parameters and case aside)."""
    return content_type.split(";")[0].strip().lower() == JSON


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_type = media_type.lower()
        if media_type:
            weights[media_type] = max(weights.get(media_type, 0.0), quality)
    return weights


def negotiate(accept: str | None) -> str:
    weights = _weights(accept or "")
    graphql_response = weights.get(GRAPHQL_RESPONSE_JSON, 0.0)
    json = max(weights.get(JSON, 0.0), weights.get("application/*", 0.0), weights.get("*/*", 0.0))
    return GRAPHQL_RESPONSE_JSON if graphql_response > 0 and graphql_response >= json else JSON
