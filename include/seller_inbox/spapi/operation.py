"""One SP-API operation as the client plans for it: path, method and the model's usage plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str        # our key (the model's operationId; the 2026 getOrder is "getOrder2026")
    api: str
    method: str
    path: str        # template as in the model
    rate: float      # requests per second (the model's usage plan)
    burst: int


def table(*rows: tuple) -> dict[str, Operation]:
    return {r[0]: Operation(*r) for r in rows}
