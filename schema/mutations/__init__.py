"""The Mutation root, composed from one module per mutation."""

from __future__ import annotations

import strawberry

from schema.mutations.create_api_key import create_api_key
from schema.mutations.create_organization import create_organization
from schema.mutations.delete_api_key import delete_api_key
from schema.mutations.end_session import end_session
from schema.mutations.rename_api_key import rename_api_key
from schema.mutations.roll_api_key import roll_api_key
from schema.mutations.sign_in import sign_in
from schema.mutations.sign_out import sign_out
from schema.mutations.sign_up import sign_up


@strawberry.type
class Mutation:
    sign_up = strawberry.mutation(resolver=sign_up)
    sign_in = strawberry.mutation(resolver=sign_in)
    sign_out = strawberry.mutation(resolver=sign_out, description="Ends this session at once.")
    end_session = strawberry.mutation(
        resolver=end_session, description="Ends one of your sessions at once."
    )
    create_organization = strawberry.mutation(resolver=create_organization)
    create_api_key = strawberry.mutation(resolver=create_api_key)
    rename_api_key = strawberry.mutation(resolver=rename_api_key)
    roll_api_key = strawberry.mutation(resolver=roll_api_key)
    delete_api_key = strawberry.mutation(resolver=delete_api_key)
