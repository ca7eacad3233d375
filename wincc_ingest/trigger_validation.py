"""The checks of the `triggers` list that its JSON schema cannot say (config_validation's pass 2).

References to sites, tags and their limits, one kind of condition per trigger, one kind of
action per entry, the secrets' environment variables, the addresses, and the placeholders of
body and topic templates. Sentences never repeat a value that may be a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wincc_ingest.triggers import LIMIT_NAMES, PLACEHOLDERS, unknown_placeholders

if TYPE_CHECKING:
    from wincc_ingest.config_validation import _Checker

# Header names whose value is a secret by its nature: such a value must come from a variable.
_SECRET_HEADERS = ("authorization", "token", "key", "secret", "password", "cookie", "signature")
_TAG_KEYS = ("site", "tag", "condition", "value", "hysteresis", "deadband", "seconds",
             "on_return")
_ALARM_KEYS = ("alarm", "sites", "priority", "classes", "name")
# Which condition uses which optional key.
_USES = {
    "value": ("above", "below", "equals"),
    "hysteresis": ("above", "below", "outside_limits"),
    "deadband": ("change",),
    "seconds": ("stale",),
}


def check_triggers(checker: _Checker, triggers: list[Any], sites: Any) -> None:
    known: dict[str, dict[str, Any]] = {}
    for site in sites if isinstance(sites, list) else []:
        if isinstance(site, dict) and isinstance(site.get("id"), str):
            known.setdefault(site["id"], {})
            for tag in site.get("tags") or []:
                if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                    known[site["id"]][tag["name"]] = tag
    seen: dict[str, int] = {}
    for index, trigger in enumerate(triggers):
        if not isinstance(trigger, dict):
            continue
        path: list[Any] = ["triggers", index]
        trigger_id = trigger.get("id")
        if isinstance(trigger_id, str):
            if trigger_id in seen:
                first = seen[trigger_id]
                checker.add([*path, "id"],
                            f"trigger id {trigger_id!r} is already used by $.triggers[{first}]")
            else:
                seen[trigger_id] = index
        when = trigger.get("when")
        if isinstance(when, dict):
            _when(checker, when, [*path, "when"], known)
        for number, action in enumerate(trigger.get("then") or []):
            if isinstance(action, dict):
                _action(checker, action, [*path, "then", number])


def _known_sites(known: dict[str, Any]) -> str:
    return ", ".join(sorted(known)) or "none"


def _when(checker: _Checker, when: dict[str, Any], path: list[Any], known: dict[str, Any]) -> None:
    tag_keys = [key for key in _TAG_KEYS if key in when]
    alarm_keys = [key for key in _ALARM_KEYS if key in when]
    if "alarm" in when:
        if tag_keys:
            checker.add(path, "an alarm trigger takes no tag condition; remove "
                        + ", ".join(tag_keys) + " (or make a second trigger)")
        for number, site in enumerate(when.get("sites") or []):
            if isinstance(site, str) and site not in known:
                checker.add([*path, "sites", number],
                            f"names unknown site {site!r}; known sites: {_known_sites(known)}")
        priority = when.get("priority")
        if isinstance(priority, dict):
            low, high = priority.get("min"), priority.get("max")
            if isinstance(low, int) and isinstance(high, int) and low > high:
                checker.add([*path, "priority"], f"min ({low}) is above max ({high})")
        return
    if alarm_keys:
        checker.add(path, "a tag trigger takes no alarm filter; remove " + ", ".join(alarm_keys)
                    + ", or give alarm (the events) to make this an alarm trigger")
    missing = [key for key in ("site", "tag", "condition") if key not in when]
    if missing:
        checker.add(path, "needs either alarm (a list of alarm events) or site, tag and "
                    "condition; missing: " + ", ".join(missing))
        return
    site, name, condition = when["site"], when["tag"], when["condition"]
    if not isinstance(site, str) or not isinstance(name, str) or not isinstance(condition, str):
        return  # the schema pass reports it
    if site not in known:
        checker.add([*path, "site"],
                    f"names unknown site {site!r}; known sites: {_known_sites(known)}")
        return
    tag = known[site].get(name)
    if tag is None:
        checker.add([*path, "tag"], f"tag {name!r} is not configured for site {site!r}; "
                    "add it to that site's tags first")
        return
    for key, conditions in _USES.items():
        if key in when and condition not in conditions:
            checker.add([*path, key], f"does not apply to the condition {condition!r} "
                        f"(only to {', '.join(conditions)})")
    limits = tag.get("limits") if isinstance(tag.get("limits"), dict) else {}
    value = when.get("value")
    if condition in ("above", "below"):
        default = "h" if condition == "above" else "l"
        if isinstance(value, str) and value not in LIMIT_NAMES:
            checker.add([*path, "value"], "must be a number or the name of one of the tag's "
                        f"limits ({', '.join(LIMIT_NAMES)})")
        elif isinstance(value, bool):
            checker.add([*path, "value"], "must be a number or a limit name, not true or false")
        elif (value is None or isinstance(value, str)) and (value or default) not in limits:
            checker.add([*path, "value"] if value is not None else path,
                        f"the tag has no limit {value or default!r}; give a number as value")
    if condition == "outside_limits" and not ({"l", "ll"} & limits.keys()
                                               or {"h", "hh"} & limits.keys()):
        checker.add([*path, "condition"], "outside_limits needs the tag's limits (l/h or ll/hh)")
    if condition == "equals" and "value" not in when:
        checker.add(path, "the condition equals needs the value to compare with (value)")
    if condition == "stale" and "seconds" not in when:
        checker.add(path, "the condition stale needs seconds (how old a value may get)")


def _templates(checker: _Checker, action: dict[str, Any], path: list[Any],
               keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in action:
            unknown = sorted(set(unknown_placeholders(action[key])))
            if unknown:
                checker.add([*path, key], "unknown placeholder(s) "
                            + ", ".join("{" + name + "}" for name in unknown)
                            + "; known: " + ", ".join("{" + name + "}" for name in PLACEHOLDERS))


def _action(checker: _Checker, action: dict[str, Any], path: list[Any]) -> None:
    kinds = [kind for kind in ("webhook", "mqtt") if kind in action]
    if len(kinds) != 1:
        checker.add(path, "each action is one object with either webhook or mqtt")
        return
    kind = kinds[0]
    body = action[kind]
    if not isinstance(body, dict):
        return
    path = [*path, kind]
    if kind == "webhook":
        _webhook(checker, body, path)
    else:
        _mqtt(checker, body, path)


def _webhook(checker: _Checker, hook: dict[str, Any], path: list[Any]) -> None:
    if ("url" in hook) == ("url_env" in hook):
        checker.add(path, "give the address in url, or in url_env (the environment variable "
                    "holding it, when the address itself is a secret) - one of them")
    url = hook.get("url")
    if isinstance(url, str) and url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            checker.add([*path, "url"], "must start with https:// (or http://) and name a host")
        elif "@" in parts.netloc:
            checker.add([*path, "url"], "must not hold a user name or password; send them in "
                        "a header whose value comes from an environment variable")
        elif parts.query:
            checker.add([*path, "url"], "must not have a query (?...): a token there ends up "
                        "in logs; put the whole address in url_env instead")
    checker.env_variable(hook.get("url_env"), [*path, "url_env"])
    checker.env_variable(hook.get("signature_env"), [*path, "signature_env"])
    headers = hook.get("headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if isinstance(value, dict):
                checker.env_variable(value.get("env"), [*path, "headers", name, "env"])
            elif isinstance(value, str) and any(word in name.lower() for word in _SECRET_HEADERS):
                checker.add([*path, "headers", name], 'a secret does not belong in the file: '
                            'write {"env": "NAME"} naming the variable that holds it')
    checker.tls(hook, path)
    _templates(checker, hook, path, ("body",))


def _mqtt(checker: _Checker, mqtt: dict[str, Any], path: list[Any]) -> None:
    broker = mqtt.get("broker")
    if isinstance(broker, str):
        try:
            parts = urlsplit(broker)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            checker.add([*path, "broker"], "must be mqtt://host:port or mqtts://host:port "
                        "(such as mqtt://127.0.0.1:1883)")
        elif "@" in parts.netloc or parts.path.strip("/") or parts.query:
            checker.add([*path, "broker"], "must be only scheme, host and port; name the user "
                        "in username and its password's variable in password_env")
        elif parts.scheme == "mqtt" and isinstance(mqtt.get("tls"), dict):
            checker.add([*path, "tls"], "the broker is plain mqtt://, so TLS settings have no "
                        "effect; use mqtts://")
    topic = mqtt.get("topic")
    if isinstance(topic, str) and ("#" in topic or "+" in topic):
        checker.add([*path, "topic"], "a topic to publish to cannot hold the wildcards # or +")
    checker.env_variable(mqtt.get("password_env"), [*path, "password_env"])
    tls = mqtt.get("tls")
    if isinstance(tls, dict):
        checker.tls({"tls": tls}, path)
    _templates(checker, mqtt, path, ("body", "topic"))
