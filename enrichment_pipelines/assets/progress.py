import dagster as dg


class StepProgress:
    """Logs "<verb> i/total <noun>" about ten times over a long step: a callback for the core's
    progress hooks, whatever arguments they pass. `start` sets the total once it is known."""

    def __init__(self, context: dg.AssetExecutionContext, verb: str, noun: str) -> None:
        self.context, self.verb, self.noun = context, verb, noun
        self.done = 0
        self.start(0)

    def start(self, total: int) -> None:
        self.total = total
        self.every = max(1, total // 10)

    def __call__(self, *_: object) -> None:
        self.done += 1
        if self.done % self.every == 0 or self.done == self.total:
            self.context.log.info(f"{self.verb} {self.done}/{self.total} {self.noun}")
