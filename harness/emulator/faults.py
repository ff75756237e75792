"""Fault injection: queued answers that stand in for AWS's own errors.

`POST /_emulator/faults` queues answers for an action (the `X-Amz-Target` suffix,
or the `Action` of query-protocol services; `*` for any AWS request). The next
matching requests get them, in order, and are never forwarded to moto, so moto's
recorder does not show them.

With `"seconds": N` the fault is a window instead: every matching request for
the next N seconds gets its first response. A response with `"forward": true`
is a lost answer: the request reaches moto (it takes effect) and the client
gets the fault instead of moto's answer.

Nothing here is ECS behaviour: the faults let tests reproduce what the AWS APIs
document as retryable errors (throttling, 5xx) and check a client's retries.
The answers have each protocol's error shape: AWS JSON 1.1 (`__type`,
`x-amzn-ErrorType`), EC2's `<Response><Errors><Error>` XML, or the other query
services' `<ErrorResponse>` XML. Without a `type`, the status picks one.
"""

import time
import uuid

from .common import json_error_body

DEFAULT_FAULT_TYPES = {
    400: "ThrottlingException",
    429: "TooManyRequestsException",
    500: "InternalFailure",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def fault_answer(fault, json_protocol, service):
    """(status, headers, body) for a queued fault; `service` is the SigV4 scope's."""
    status = int(fault.get("status", 500))
    type_ = fault.get("type") or DEFAULT_FAULT_TYPES.get(status, "ServiceError")
    message = fault.get("message") or "Injected by ecs-emulator"
    rid = str(uuid.uuid4())
    if json_protocol:
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-RequestId", rid),
            ("x-amzn-ErrorType", type_),
        ]
        return status, headers, json_error_body(type_, message)
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if service == "ec2":
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
            "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
            % (esc(type_), esc(message), rid)
        )
    else:
        kind = "Sender" if status < 500 else "Receiver"
        xml = (
            "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>" % (kind, esc(type_), esc(message), rid)
        )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], xml.encode()


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
        fault = {"action": action, "responses": list(responses)}
        if spec.get("seconds") is not None:
            fault["until"] = time.time() + float(spec["seconds"])
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, action):
        now = time.time()
        with self.lock:
            self.faults = [x for x in self.faults if x["responses"] and x.get("until", now + 1) > now]
            for f in self.faults:
                if f["action"] == "*" or f["action"] == action:
                    if "until" in f:
                        return f["responses"][0]
                    r = f["responses"].pop(0)
                    self.faults = [x for x in self.faults if x["responses"]]
                    return r
        return None
