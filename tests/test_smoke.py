from wincc_bridge.models import AlarmState, PriorityBand, Quality, quality_from_opc


def test_private_redis_is_not_the_machines(redis_client, redis_url):
    assert not redis_url.endswith(":6379/0")
    redis_client.set("probe", "1")
    assert redis_client.get("probe") == "1"


def test_opc_quality_byte():
    assert quality_from_opc(0xC0) is Quality.GOOD
    assert quality_from_opc(0xD8) is Quality.GOOD
    assert quality_from_opc(0x44) is Quality.UNCERTAIN
    assert quality_from_opc(0x18) is Quality.BAD


def test_priority_bands():
    assert [PriorityBand.of(p) for p in (0, 1, 5, 6, 10, 11, 15, 16)] == [
        "none", "low", "low", "medium", "medium", "high", "high", "highest"]
    assert AlarmState.RETURNED_UNACKNOWLEDGED.needs_acknowledgement
