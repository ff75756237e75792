"""Fault injection: queued answers that stand in for AWS's own errors.

`POST /_emulator/faults` queues answers for an action (the `X-Amz-Target` suffix,
or the `Action` of query-protocol services; `*` for any AWS request). The next
matching requests get them, in order, and are never forwarded to moto, so moto's
recorder does not show them.

Nothing here is ECS behaviour: the faults let tests reproduce what the AWS APIs
document as retryable errors (throttling, 5xx) and check a client's retries.
"""


class Faults:
    """The fault queue, mixed into Emulator over State (which holds `faults` and `lock`)."""

    def reset_faults(self):
        with self.lock:
            self.faults = []

    def add_fault(self, spec):
        action = spec.get("action") or "*"
        responses = spec.get("responses")
        if not isinstance(responses, list) or not responses:
            raise ValueError("responses must be a non-empty list")
        for r in responses:
            if not isinstance(r, dict) or not isinstance(r.get("status", 0), int):
                raise ValueError("each response must be an object with an integer status")
        with self.lock:
            self.faults.append({"action": action, "responses": list(responses)})

    def take_fault(self, action):
        with self.lock:
            for f in self.faults:
                if f["responses"] and (f["action"] == "*" or f["action"] == action):
                    r = f["responses"].pop(0)
                    self.faults = [x for x in self.faults if x["responses"]]
                    return r
        return None
