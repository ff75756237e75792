"""Small pieces every module of the emulator shares: logging, the ECS error, names.

EcsError is an ECS API error as the API reference's "Common Errors" describe it,
answered in the AWS JSON 1.1 error shape (`__type`, `message`, `x-amzn-ErrorType`).
ECS_TARGET_PREFIX is the `X-Amz-Target` prefix of ECS actions.
Timestamps are epoch seconds with millisecond precision (r3), as the SDKs expect.
"""

import json
import sys

ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."


def log(*args):
    print("ecs-emulator:", *args, file=sys.stderr, flush=True)


class EcsError(Exception):
    """An ECS API error answered in the AWS JSON 1.1 error shape."""

    def __init__(self, type_, message, status=400):
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status


def json_error_body(type_, message):
    return json.dumps({"__type": type_, "message": message}).encode()


def r3(t):
    return None if t is None else round(t, 3)


def last_segment(name_or_arn):
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn else name_or_arn


def td_key(ref):
    """'family:rev' for a task definition ARN or family:rev; None for a bare family."""
    if not ref:
        return None
    name = ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
    if ":" in name:
        return name
    return None
