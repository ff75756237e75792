"""Eventual consistency: DescribeServices lags behind UpdateService (off by default).

The ECS API reference says (e.g. on RunTask, and in its "Eventual consistency"
notes): "The Amazon ECS API follows an eventual consistency model. This is because
of the distributed nature of the system supporting the API. This means that the
result of an API command you run that affects your Amazon ECS resources might not
be immediately visible to all subsequent commands you run." It asks clients to
confirm a change with a Describe call and exponential backoff rather than trust the
first read. A client that decides "nothing changed" or "the rollout is done" from
the first DescribeServices after an UpdateService is wrong on real ECS, and this
mode makes that visible.

With a lag of S emulated seconds (`--describe-lag S`, or `POST
/_emulator/consistency {"describeServicesLag": S}`; × the time scale like every
duration), each UpdateService that moto and the emulator accept remembers the
service as DescribeServices showed it just before the update, and DescribeServices
answers that picture until S seconds after the update: the new deployment not yet
listed, `taskDefinition`, `desiredCount` and the deployments' counts as they were.
The scheduler itself acts on the update at once, so the rollout goes on behind
the stale reads; after the lag, reads show the real state.

Where it assumes (AWS documents no figure and no detail of what is stale):

- only DescribeServices lags, and only after UpdateService; CreateService,
  DeleteService, ListServices, DescribeTasks and ListTasks are read-your-writes;
- every read within the lag is stale (real ECS may mix fresh and stale reads);
- the picture is the one from just before the latest UpdateService: a second
  update within the lag shows the state between the two updates, and restarts
  the lag;
- the stale picture is frozen (counts and events do not move); tags asked with
  `include: ["TAGS"]` are moto's current ones.
"""

import copy


class Consistency:
    """Mixed into Emulator over State (which holds `lock`, `scale`, services)."""

    describe_lag = 0.0  # emulated seconds; the command line's value
    describe_lag_now = 0.0  # what /_emulator/consistency set; reset_consistency restores

    def reset_consistency(self):
        with self.lock:
            self.describe_lag_now = self.describe_lag

    def set_describe_lag(self, seconds):
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise ValueError("describeServicesLag must be a number of seconds >= 0")
        with self.lock:
            self.describe_lag_now = float(seconds)

    def consistency_settings(self):
        with self.lock:
            return {"describeServicesLag": self.describe_lag_now}

    def before_update(self, svc, now):
        """Called with the lock held, before UpdateService changes `svc`."""
        if self.describe_lag_now > 0:
            svc.stale_json = svc.to_json()
            svc.stale_until = now + self.describe_lag_now * self.scale
        else:
            svc.stale_json = None

    def described(self, svc, now, tags, include_tags):
        """The service as DescribeServices shows it at `now` (lock held)."""
        stale = getattr(svc, "stale_json", None)
        if stale is None or now >= svc.stale_until:
            return svc.to_json(tags=tags, include_tags=include_tags)
        j = copy.deepcopy(stale)
        if include_tags:
            j["tags"] = tags if tags is not None else svc.tags
        return j
