"""RedisBus against the real Redis: the bus contract, across replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from quantumtrade.core.settings import Settings
from quantumtrade.infra.bus import BusMessage, RedisBus, Subscription, create_bus
from support import wait_until

BusFactory = Callable[..., RedisBus]


@pytest.fixture
async def make_bus(redis_url: str, redis_prefix: str) -> AsyncIterator[BusFactory]:
    """Build buses on the test Redis, as separate app replicas would; close them afterwards."""
    buses: list[RedisBus] = []

    def make(prefix: str = redis_prefix, **options: object) -> RedisBus:
        bus = RedisBus(redis_url, prefix, retry_seconds=0.2, **options)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


async def next_message(sub: Subscription, timeout: float = 30.0) -> BusMessage:
    """The next message; the generous timeout only stops a hang."""
    return await asyncio.wait_for(anext(sub), timeout)


async def assert_nothing(sub: Subscription, wait: float = 0.2) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(sub), wait)


async def test_message_reaches_another_replica(make_bus: BusFactory) -> None:
    sender, receiver = make_bus(), make_bus()
    async with receiver.subscribe("orders") as sub:
        assert receiver.listening
        await sender.publish("orders", {"id": 1, "side": "buy"})
        await sender.publish("other", {"id": 2})
        assert await next_message(sub) == BusMessage("orders", {"id": 1, "side": "buy"})
        await assert_nothing(sub)


async def test_local_subscriber_gets_exactly_one_copy(make_bus: BusFactory) -> None:
    bus = make_bus()
    async with bus.subscribe("orders") as sub:
        await bus.publish("orders", {"id": 1})
        assert (await next_message(sub)).data == {"id": 1}
        await assert_nothing(sub)


async def test_prefixes_isolate_deployments(make_bus: BusFactory, redis_prefix: str) -> None:
    ours, theirs = make_bus(), make_bus(prefix=redis_prefix + "other:")
    async with ours.subscribe("orders") as sub:
        await theirs.publish("orders", {"id": 1})
        await assert_nothing(sub)


async def test_pattern_subscription_across_replicas(make_bus: BusFactory) -> None:
    sender, receiver = make_bus(), make_bus()
    async with receiver.psubscribe("prices.*") as sub:
        await sender.publish("prices.AAPL", {"p": 1.5})
        await sender.publish("orders", {"id": 1})
        assert await next_message(sub) == BusMessage("prices.AAPL", {"p": 1.5}, "prices.*")
        await assert_nothing(sub)


async def test_subscriptions_come_and_go_on_one_connection(
    make_bus: BusFactory, plain_redis: Redis, redis_prefix: str
) -> None:
    sender, receiver = make_bus(), make_bus()
    first = await receiver.subscribe("a").start()
    second = await receiver.subscribe("b").start()
    assert dict(await plain_redis.pubsub_numsub(f"{redis_prefix}a", f"{redis_prefix}b")) == {
        f"{redis_prefix}a".encode(): 1,
        f"{redis_prefix}b".encode(): 1,
    }
    await first.aclose()
    await sender.publish("b", {"n": 1})
    assert (await next_message(second)).data == {"n": 1}

    async def dropped() -> bool:
        return bool((await plain_redis.pubsub_numsub(f"{redis_prefix}a"))[0][1] == 0)

    await wait_until(dropped, message="the dropped channel stayed subscribed")
    await second.aclose()


async def test_foreign_messages_are_ignored(
    make_bus: BusFactory, plain_redis: Redis, redis_prefix: str
) -> None:
    bus = make_bus()
    async with bus.subscribe("c") as sub:
        await plain_redis.publish(f"{redis_prefix}c", "not json")
        await plain_redis.publish(f"{redis_prefix}c", "[1, 2]")
        await plain_redis.publish(f"{redis_prefix}c", '{"ok": true}')
        assert (await next_message(sub)).data == {"ok": True}


async def test_slow_subscriber_drops_oldest(make_bus: BusFactory) -> None:
    sender, receiver = make_bus(), make_bus(queue_size=2)
    async with receiver.subscribe("c") as sub:
        for number in range(4):
            await sender.publish("c", {"n": number})
        await wait_until(lambda: sub.dropped >= 2)
        assert sub.dropped == 2
        assert [(await next_message(sub)).data["n"] for _ in range(2)] == [2, 3]


async def test_health_is_ok(make_bus: BusFactory) -> None:
    bus = make_bus()
    async with bus.subscribe("c"):
        health = await bus.health()
    assert (health.status, health.backend) == ("ok", "redis")


async def test_health_is_ok_while_the_first_subscription_is_confirmed(
    make_bus: BusFactory,
) -> None:
    """A replica that is still subscribing at start-up has no outage to report."""
    bus = make_bus()
    entering = asyncio.create_task(bus.subscribe("c").__aenter__())
    await asyncio.sleep(0)  # the listener has started but Redis has not confirmed yet
    assert not bus.listening
    health = await bus.health()
    sub = await entering
    try:
        assert health.status == "ok", health
        assert bus.listening
    finally:
        await sub.__aexit__(None, None, None)


async def test_create_bus_uses_redis_url(redis_url: str, redis_prefix: str) -> None:
    bus = create_bus(Settings(_env_file=None, redis_url=redis_url), prefix=redis_prefix)
    try:
        assert isinstance(bus, RedisBus)
        async with bus.subscribe("c") as sub:
            await bus.publish("c", {"n": 1})
            assert (await next_message(sub)).data == {"n": 1}
    finally:
        await bus.close()
