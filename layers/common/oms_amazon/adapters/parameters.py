"""SSM parameters the stack writes after deployment (the console's user pool client id)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.domain.errors import DependencyUnavailable


def parameter_value(client: Any, name: str, *, what: str) -> str:
    """The parameter's value; SSM unreachable or refusing is `DependencyUnavailable` (503, retry shortly)."""
    try:
        parameter = client.get_parameter(Name=name)
    except (ClientError, BotoCoreError) as error:
        raise DependencyUnavailable(f"{what} could not be read; retry shortly.") from error
    return str(parameter["Parameter"]["Value"])
