"""Environment settings, validated once. Only handlers and `deps` modules read them.

A missing required variable fails the cold start loudly instead of surfacing later as a confusing
error (no `os.getenv(name, "")` defaults for required values).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Literal["dev", "prod", "local"] = Field(alias="STAGE")
    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    secret_prefix: str = Field(alias="SECRET_PREFIX", min_length=1, pattern=r"^[A-Za-z0-9/_+=.@-]+/$")

    @classmethod
    def from_env(cls) -> Settings:
        return cls.model_validate(dict(os.environ))


@cache
def settings() -> Settings:
    return Settings.from_env()
