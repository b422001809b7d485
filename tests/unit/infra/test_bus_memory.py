"""MemoryBus: the bus contract within one process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from quantumtrade.core.settings import Settings
from quantumtrade.infra.bus import BusMessage, MemoryBus, RedisBus, Subscription, create_bus


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    bus = MemoryBus()
    yield bus
    await bus.close()


async def next_message(sub: Subscription, timeout: float = 1.0) -> BusMessage:
    return await asyncio.wait_for(anext(sub), timeout)


async def assert_nothing(sub: Subscription, wait: float = 0.05) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(sub), wait)


async def test_subscriber_receives_its_channels_only(bus: MemoryBus) -> None:
    async with bus.subscribe("orders", "fills") as sub:
        await bus.publish("orders", {"id": 1})
        await bus.publish("prices", {"symbol": "AAPL"})
        await bus.publish("fills", {"id": 2})
        assert await next_message(sub) == BusMessage("orders", {"id": 1})
        assert await next_message(sub) == BusMessage("fills", {"id": 2})
        await assert_nothing(sub)


async def test_every_subscriber_gets_a_copy(bus: MemoryBus) -> None:
    async with bus.subscribe("orders") as first, bus.subscribe("orders") as second:
        await bus.publish("orders", {"id": 1})
        assert (await next_message(first)).data == {"id": 1}
        assert (await next_message(second)).data == {"id": 1}


async def test_messages_before_start_are_not_delivered(bus: MemoryBus) -> None:
    sub = bus.subscribe("orders")
    await bus.publish("orders", {"id": 0})
    async with sub:
        await bus.publish("orders", {"id": 1})
        assert (await next_message(sub)).data == {"id": 1}


async def test_data_goes_through_json(bus: MemoryBus) -> None:
    async with bus.subscribe("c") as sub:
        original = {"pair": (1, 2)}
        await bus.publish("c", original)
        received = await next_message(sub)
        assert received.data == {"pair": [1, 2]}
        assert received.data is not original


async def test_pattern_subscription(bus: MemoryBus) -> None:
    async with bus.psubscribe("prices.*") as sub:
        await bus.publish("prices.AAPL", {"p": 1})
        await bus.publish("orders", {"id": 1})
        assert await next_message(sub) == BusMessage("prices.AAPL", {"p": 1}, "prices.*")
        await assert_nothing(sub)


async def test_slow_subscriber_drops_oldest() -> None:
    bus = MemoryBus(queue_size=3)
    async with bus.subscribe("c") as sub:
        for number in range(5):
            await bus.publish("c", {"n": number})
        assert sub.dropped == 2
        assert [(await next_message(sub)).data["n"] for _ in range(3)] == [2, 3, 4]
    await bus.close()


async def test_closing_ends_iteration_after_buffered_messages(bus: MemoryBus) -> None:
    sub = await bus.subscribe("c").start()
    await bus.publish("c", {"n": 1})
    await sub.aclose()
    await bus.publish("c", {"n": 2})
    assert [message.data async for message in sub] == [{"n": 1}]


async def test_bus_close_ends_subscriptions() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("c").start()
    reader = asyncio.create_task(anext(sub))
    await asyncio.sleep(0)
    await bus.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reader, 1)
    with pytest.raises(RuntimeError):
        await bus.subscribe("c").start()


async def test_misuse_is_refused(bus: MemoryBus) -> None:
    with pytest.raises(ValueError):
        bus.subscribe()
    with pytest.raises(RuntimeError):
        await anext(bus.subscribe("c"))
    with pytest.raises(TypeError):
        await bus.publish("c", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await bus.publish("c", {"when": object()})
    sub = await bus.subscribe("c").start()
    with pytest.raises(RuntimeError):
        await sub.start()
    await sub.aclose()


async def test_health(bus: MemoryBus) -> None:
    health = await bus.health()
    assert (health.status, health.backend) == ("ok", "memory")


async def test_create_bus_picks_backend() -> None:
    memory = create_bus(Settings(_env_file=None, redis_url=None, redis_host=None))
    assert isinstance(memory, MemoryBus)
    redis_bus = create_bus(Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0"), prefix="p:")
    try:
        assert isinstance(redis_bus, RedisBus)
        assert redis_bus.prefix == "p:"
    finally:
        await redis_bus.close()
