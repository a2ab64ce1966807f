"""Sums per-layer pull progress per image and per app, and throttles what it publishes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from runtime.base import PullProgress

_DONE = ("Pull complete", "Already exists", "Download complete")


@dataclass(frozen=True)
class ImageProgress:
    """Bytes of one image: `total` grows as layers announce their sizes."""

    image: str
    current: int
    total: int
    layers: int
    layers_done: int
    done: bool


@dataclass(frozen=True)
class AppProgress:
    """Bytes over all images of an app; what a progress bar shows."""

    images: tuple[ImageProgress, ...]
    current: int
    total: int
    done: bool

    @property
    def percent(self) -> float:
        """0..100 by bytes; by finished layers when no sizes are known (Podman 4's compat API sends none)."""
        if self.done:
            return 100.0
        if self.total:
            return min(99.9, 100.0 * self.current / self.total)
        layers = sum(i.layers for i in self.images)
        return min(99.9, 100.0 * sum(i.layers_done for i in self.images) / layers) if layers else 0.0


class PullAggregator:
    """Use as the `on_progress` callback of Engine.pull for every image of an app; `publish` sees AppProgress."""

    def __init__(
        self,
        images: Iterable[str],
        publish: Callable[[AppProgress], None],
        *,
        min_interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._images = list(dict.fromkeys(images))
        self._publish = publish
        self._min_interval = min_interval  # a few events per second is enough for a bar and spares the websocket
        self._clock = clock
        self._last = float("-inf")
        self._layers: dict[str, dict[str, tuple[int, int, bool]]] = {i: {} for i in self._images}
        self._done: set[str] = set()
        self._lock = threading.Lock()  # images may be pulled from several threads

    def __call__(self, event: PullProgress) -> None:
        """Record one engine event and publish if the throttle allows."""
        with self._lock:
            layers = self._layers.setdefault(event.image, {})
            if event.layer:
                current, total, done = layers.get(event.layer, (0, 0, False))
                if event.status == "Downloading":
                    current, total = event.current, event.total or total
                elif event.status in _DONE:
                    current, done = total, True
                layers[event.layer] = (current, total, done)
            due = self._clock() - self._last >= self._min_interval
        if due:
            self.flush()

    def image_done(self, image: str) -> None:
        """Mark an image complete (pull returned, or it was already present) and publish at once."""
        with self._lock:
            self._done.add(image)
            self._layers.setdefault(image, {})
        self.flush()

    def flush(self) -> None:
        """Publish the current state now, ignoring the throttle."""
        snapshot = self.snapshot()
        self._last = self._clock()
        self._publish(snapshot)

    def snapshot(self) -> AppProgress:
        """Current totals without publishing."""
        with self._lock:
            images = tuple(self._image(name, layers) for name, layers in self._layers.items())
        return AppProgress(
            images=images,
            current=sum(i.current for i in images),
            total=sum(i.total for i in images),
            done=all(i.done for i in images),
        )

    def _image(self, name: str, layers: dict[str, tuple[int, int, bool]]) -> ImageProgress:
        """Totals of one image."""
        done = name in self._done
        current = sum(t if done else c for c, t, _ in layers.values())
        return ImageProgress(
            image=name,
            current=current,
            total=sum(t for _, t, _ in layers.values()),
            layers=len(layers),
            layers_done=sum(1 for *_, d in layers.values() if d or done),
            done=done,
        )
