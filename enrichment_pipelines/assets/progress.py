import dagster as dg


class StepProgress:
    """Logs "<verb> i/total <noun>" about ten times over a long step: a callback for the core's
    `on_done` hooks, whatever arguments they pass."""

    def __init__(self, context: dg.AssetExecutionContext, total: int, verb: str, noun: str):
        self.context, self.total, self.verb, self.noun = context, total, verb, noun
        self.done = 0
        self.every = max(1, total // 10)

    def __call__(self, *_: object) -> None:
        self.done += 1
        if self.done % self.every == 0 or self.done == self.total:
            self.context.log.info(f"{self.verb} {self.done}/{self.total} {self.noun}")
