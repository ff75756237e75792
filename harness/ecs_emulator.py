#!/usr/bin/env python3
"""ECS rollout emulator: moto's server plus the documented ECS rolling-update behaviour.

One HTTP endpoint on 127.0.0.1 that AWS clients use (AWS_ENDPOINT_URL). Every AWS
request is forwarded to moto first, so moto's request recorder sees every call and
moto stays the source of truth for everything the emulator does not own (clusters,
task definitions, ECR, Application Auto Scaling, EC2, ...). The emulator owns the
ECS actions that moto does not roll out and answers them from its own state:
rolling updates within minimumHealthyPercent/maximumPercent, task failures driven
by ordinary inputs (image reference, command), the deployment circuit breaker with
rollback, overlapping deployments, service events and run-task exit codes.
harness/README.md documents every behaviour.

This file is the entry point; the code is the package harness/emulator/ (its
__init__.py lists the modules). Standard library only (plus the moto it starts).
Usage:

    ecs_emulator.py [--port 4566] [--time-scale 1.0] [--moto-url URL]

prints `ready http://127.0.0.1:PORT` on stdout once both servers are serving.
"""

import sys

sys.dont_write_bytecode = True  # as before the split: leave no __pycache__ in harness/

# Handler: benches/run_bench.py imports this file and patches Handler.setup.
from emulator.server import Handler, main  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(main())
