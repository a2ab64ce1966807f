"""The one way an API view reads a request body through a serializer: 400 with the fields' errors, else the data."""

from typing import Any


def validated(serializer_class, data, *, partial: bool = False, **context: Any) -> dict:
    """The serializer's validated data (ValidationError, answered 400 by DRF, when the body is wrong)."""
    serializer = serializer_class(data=data, partial=partial, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
