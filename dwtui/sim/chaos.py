"""Random faults for the flaky scenario: seeded, so a run can be repeated exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Chaos:
    """Each matching request fails with probability `rate`, with a kind drawn from `kinds`."""

    path_marker: str  # a request path containing this is eligible, e.g. "/operations/"
    rate: float
    kinds: tuple[str, ...]  # fault kinds of world.FAULT_KINDS ("slow" answers late, then normally)
    slow_delay: float  # real seconds a "slow" answer waits
    seed: int = 0
    rng: random.Random = field(init=False)
    drawn: dict[str, int] = field(default_factory=dict)  # kind -> how many were served

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self, path: str) -> str | None:
        if self.path_marker not in path or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        self.drawn[kind] = self.drawn.get(kind, 0) + 1
        return kind
