"""The ECS rollout emulator, by concern (harness/ecs_emulator.py runs it).

- common.py: logging, the ECS error, names shared by every module;
- scenarios.py: how a container behaves, from its image and command;
- tasks.py: tasks and containers, their lifecycle and wire shape;
- services.py: services and deployments, their settings and wire shape;
- state.py: the emulator's state (State), under one lock;
- scheduler.py: the rolling update and the circuit breaker (Scheduler);
- faults.py: the injected-fault queue (Faults);
- api.py: the owned ECS actions, and Emulator = State + Scheduler + Faults + them.
"""
