"""The per-client write buckets, by the rule alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from oms_amazon.domain.write_limits import Charge, admit


@dataclass
class FakeWriteBuckets:
    """Each client's bucket by the rule alone (domain.write_limits.admit), recording every charge taken."""

    tats: dict[str, int] = field(default_factory=dict)
    taken: list[tuple[str, Charge]] = field(default_factory=list)

    def take(self, client_id: str, charge: Charge) -> int | None:
        admitted, tat = admit(self.tats.get(client_id), charge)
        if not admitted:
            assert tat is not None
            return tat
        assert tat is not None
        self.tats[client_id] = tat
        self.taken.append((client_id, charge))
        return None
