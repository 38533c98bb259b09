"""The bookkeeping every interop script shares: each check counted, each failure kept with what
was expected, one summary line (`NAME interop: N checks, M failed`) and the exit status."""
import sys


class Checks:
    def __init__(self, name):
        self.name = name
        self.count = 0
        self.failures = []

    def __call__(self, condition, what):
        """Counts a check; keeps `what` when `condition` is false. Returns `condition`."""
        self.count += 1
        if not condition:
            self.failures.append(what)
        return condition

    def finish(self):
        """Prints the summary and every failure, and exits 1 if any check failed."""
        print(f"{self.name} interop: {self.count} checks, {len(self.failures)} failed")
        for f in self.failures:
            print("  FAIL", f)
        sys.exit(1 if self.failures else 0)
