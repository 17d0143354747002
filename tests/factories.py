"""factory_boy factories: invented people only."""

import datetime
from typing import TYPE_CHECKING, Any

import factory

from intake.models import Client


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client

    first_name = factory.Sequence(lambda n: f"Firstname{n}")
    last_name = factory.Sequence(lambda n: f"Lastname{n}")
    date_of_birth = factory.Sequence(
        lambda n: datetime.date(1980, 1, 1) + datetime.timedelta(days=n)
    )
    phone = factory.Sequence(lambda n: f"555-{n % 10_000:04d}")

    if TYPE_CHECKING:
        # For the type checker only: calling the factory creates and returns a Client
        # (factory_boy's metaclass ``__call__`` is untyped, so mypy would otherwise take
        # ``ClientFactory()`` for an instance of the factory itself).
        def __new__(cls, **kwargs: Any) -> Client:  # type: ignore[misc]
            ...
