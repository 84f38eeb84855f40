"""The end of a command's event loop: what is still running is cancelled, and whatever
ignores the cancellation (a plugin's hung step the router abandoned) is left behind
rather than waited for. Light on imports: ``run_async`` uses it for every command.
"""

from __future__ import annotations

import asyncio

#: How long a cancelled task may take to wind down before it is abandoned.
ABANDON_GRACE = 1.0


async def settle_leftovers() -> None:
    """At the end of a command: cancel the tasks still running (an abandoned provider
    step), give them ``ABANDON_GRACE`` to finish, and leave the rest behind, so that the
    event loop's shutdown does not wait forever for a plugin that ignores cancellation."""
    current = asyncio.current_task()
    left = {t for t in asyncio.all_tasks() if t is not current and not t.done()}
    if not left:
        return
    for task in left:
        task.cancel()
    _, pending = await asyncio.wait(left, timeout=ABANDON_GRACE)
    if not pending:
        return
    unregister = getattr(asyncio.tasks, "_unregister_task", None)
    for task in pending:
        if unregister is not None:
            unregister(task)  # asyncio.run's shutdown no longer gathers it
    loop = asyncio.get_running_loop()
    default = loop.get_exception_handler()

    def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        if context.get("task") in pending:
            return  # "Task was destroyed but it is pending": we left it on purpose
        if default is not None:
            default(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(quiet)
