"""The ECS rollout emulator, by concern (harness/ecs_emulator.py runs it).

From the wire inwards:

- server.py: the HTTP front end (control endpoints, faults, forwarding to moto,
  the owned actions) and the command line with its ready line;
- upstream.py: moto's process and the emulator's own requests to it;
- faults.py: the injected-fault queue and its answers (Faults);
- api.py: the owned ECS actions over moto's answers, and
  Emulator = State + Scheduler + Faults + the actions;
- scheduler.py: the rolling update, the circuit breaker, steady state (Scheduler);
- state.py: services, tasks, timeline and caches under one lock (State);
- services.py: services and deployments, their settings and wire shape;
- tasks.py: tasks and containers, their lifecycle and wire shape;
- scenarios.py: how a container behaves, from its image and command;
- common.py: logging, the ECS error, names shared by every module.

Each module's docstring says which documented ECS behaviour it reproduces and
what it assumes where ECS is not reproduced.
"""
