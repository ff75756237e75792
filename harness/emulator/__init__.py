"""The ECS rollout emulator, by concern (harness/ecs_emulator.py runs it).

Each module imports only modules listed after it:

- server.py: the HTTP front end (control endpoints, faults, forwarding to moto,
  the owned actions) and the command line with its ready line;
- api.py: the owned ECS actions over moto's answers, and
  Emulator = State + Scheduler + Faults + the actions;
- faults.py: the injected-fault queue and its answers (Faults);
- consistency.py: DescribeServices lagging behind UpdateService (Consistency);
- upstream.py: moto's process and the emulator's own requests to it;
- scheduler.py: the rolling update, the circuit breaker, steady state (Scheduler);
- state.py: services, tasks, timeline and caches under one lock (State);
- services.py: services and deployments, their settings and wire shape;
- tasks.py: tasks and containers, their lifecycle (sidecars stopped with
  SIGTERM after an essential exit) and wire shape;
- scenarios.py: how a container behaves, from its image and command;
- common.py: logging, the ECS error, names shared by every module.

Each module's docstring says which documented ECS behaviour it reproduces and
what it assumes where ECS is not reproduced (harness/README.md has the whole list).
"""
