"""Scenarios: how a container behaves is a pure function of its image and command.

Tests choose a scenario through ordinary inputs, never a mock: the image
reference and the command (the task definition's, or RunTask's containerOverrides
command). The outcomes follow the ECS developer guide's task lifecycle and its
stopped-task error codes:

- `crash-N` in the image: the essential container exits with N before the task
  reaches RUNNING (`EssentialContainerExited`);
- `pull-error` in the image: `CannotPullContainerError`, with the image reference
  the container runtime resolves (docker.io/library/NAME:latest), and
  `TaskFailedToStart`;
- `flaky-pull-N` in the image: the first N tasks that a service deployment
  launches fail to pull as with `pull-error` (an intermittent registry error),
  later ones are healthy. This one marker also depends on the launch order within
  the deployment (run-task ignores it);
- `slow-Ns`: a start delay of N seconds; `crash-after-Ns-N`: RUNNING, then exit N;
- `exit N` / `sleep N` in the command: exit code and run duration;
- `trap '' TERM` in the command: the container ignores SIGTERM, so when ECS stops
  it, it is killed after its `stopTimeout` (default 30 s) and exits 137;
- in a run-task whose essential container has a scenario of its own (any of the
  above), the containers without one are sidecars (log router, proxy): they run
  until ECS stops them. Without any scenario, every run-task container runs the
  run duration and exits 0, as before.

Where it assumes (harness/README.md, "Known differences from real ECS"):

- markers are matched anywhere in the image reference, repository name included;
- `exit N` and `sleep N` are matched anywhere in the joined command, which is
  never run;
- precedence: a command with `exit N` or `sleep N` decides alone (exit code N
  or 0); otherwise `crash-after-…`, then `crash-N`, then healthy;
- a task definition without an essential container is accepted and its first
  container is made essential (ECS would refuse it).
"""

import re

RE_CRASH_AFTER = re.compile(r"crash-after-(\d+(?:\.\d+)?)s-(\d+)")
RE_CRASH = re.compile(r"crash-(\d+)")
RE_FLAKY_PULL = re.compile(r"flaky-pull-(\d+)")
RE_SLOW = re.compile(r"slow-(\d+(?:\.\d+)?)s")
RE_EXIT = re.compile(r"(?:^|[\s;&|(])exit\s+(\d+)")
RE_SLEEP = re.compile(r"(?:^|[\s;&|(])sleep\s+(\d+(?:\.\d+)?)")
RE_TRAP_TERM = re.compile(r"""trap\s+(?:''|"")\s+(?:SIG)?TERM""")
DEFAULT_STOP_TIMEOUT = 30  # ECS's default container stopTimeout, seconds


class ContainerPlan:
    """What one container will do, in nominal (unscaled) seconds."""

    def __init__(self, cdef, command, for_service, default_start, default_run):
        self.name = cdef.get("name", "")
        self.image = cdef.get("image", "")
        self.essential = cdef.get("essential", True) is not False
        self.cpu = cdef.get("cpu", 0)
        self.memory = cdef.get("memory") or cdef.get("memoryReservation")
        self.command = command
        image = self.image
        self.pull_error = "pull-error" in image
        m = RE_FLAKY_PULL.search(image)
        self.flaky_pulls = int(m.group(1)) if m else 0  # applied per deployment by the scheduler
        m = RE_SLOW.search(image)
        self.start_delay = float(m.group(1)) if m else default_start
        # exits_at_start: the container exits before the task reaches RUNNING.
        self.exits_at_start = False
        self.run_duration = None  # None: runs until stopped
        self.exit_code = 0
        cmd_text = " ".join(str(c) for c in (command or []))
        m_exit = RE_EXIT.search(cmd_text)
        m_sleep = RE_SLEEP.search(cmd_text)
        m_after = RE_CRASH_AFTER.search(image)
        m_crash = RE_CRASH.search(image) if not m_after else None
        # a scenario of its own: it exits by itself (or runs a set time)
        self.explicit = bool(m_exit or m_sleep or m_after or m_crash)
        # `trap '' TERM`: SIGTERM is ignored, so a stop ends in SIGKILL (137)
        # after the container's stopTimeout
        self.ignores_sigterm = bool(RE_TRAP_TERM.search(cmd_text))
        self.stop_timeout = float(cdef.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
        if m_exit:
            self.exit_code = int(m_exit.group(1))
            self.run_duration = float(m_sleep.group(1)) if m_sleep else default_run
        elif m_sleep:
            self.run_duration = float(m_sleep.group(1))
        elif m_after:
            self.run_duration = float(m_after.group(1))
            self.exit_code = int(m_after.group(2))
        elif m_crash:
            self.exits_at_start = True
            self.exit_code = int(m_crash.group(1))
        elif not for_service:
            self.run_duration = default_run


def container_plans(td, overrides, for_service, default_start, default_run):
    by_name = {}
    for o in (overrides or {}).get("containerOverrides") or []:
        if o.get("name"):
            by_name[o["name"]] = o
    plans = []
    for cdef in td.get("containerDefinitions") or []:
        o = by_name.get(cdef.get("name"), {})
        command = o.get("command") if o.get("command") is not None else cdef.get("command")
        plans.append(ContainerPlan(cdef, command, for_service, default_start, default_run))
    if plans and not any(p.essential for p in plans):
        plans[0].essential = True  # ECS requires one; be lenient
    if not for_service and any(p.essential and p.explicit for p in plans):
        # The task's outcome is the scenario of an essential container; the
        # others (log router, proxy: sidecars) run until ECS stops them.
        for p in plans:
            if not p.explicit:
                p.run_duration = None
    return plans


def qualified_image(image):
    """The reference a container runtime resolves (docker.io/library/NAME:latest)."""
    ref = image
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    first = ref.split("/", 1)[0]
    if "/" not in ref or not ("." in first or ":" in first or first == "localhost"):
        if "/" not in ref:
            ref = "library/" + ref
        ref = "docker.io/" + ref
    return ref
