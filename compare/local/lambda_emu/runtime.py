"""Execution environments: one `awslambdaric` process each, with its own Runtime API endpoint.

The Runtime API is the documented one (2018-06-01): the runtime long-polls
`GET /runtime/invocation/next`, then posts `/invocation/{id}/response` or `/error`, or
`/init/error` if the handler cannot be loaded. Timings are taken where Lambda takes them:
Init Duration is process spawn → first `/next`; Duration is event handed over → response posted;
Billed Duration is Duration (plus Init Duration on a cold start, billed for on-demand ZIP
functions since August 2025) rounded up to the next millisecond.

Each environment lives in its own envelope (`compare.local.envelopes`): memory/1,769 vCPU (AWS gives one
full vCPU at 1,769 MB) and its configured memory. Between invocations it is frozen, as Lambda
freezes it when the runtime asks for the next event and none is waiting, so nothing in it runs
(no background thread, no timer) until the next event thaws it. Idle environments are reaped after
`FunctionConfig.idle_reap_s`: AWS does not document that time; 10 minutes is what public
measurements found (mikhail.io, "AWS Lambda cold starts after 10 minutes", Aug 2019; earlier
observations ranged from 5 to 60 minutes), so that is the default and the value is a parameter.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from compare.local.envelopes import Envelopes, Group, Limits

API = "/2018-06-01/runtime"
IDLE_REAP_S = 600.0  # not documented by AWS: see the module docstring
FUNCTION_NAME = "cafe-local"  # the HTTP function's name; the others are named after their handler


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


class EnvironmentFailed(RuntimeError):
    """The environment died or reported an init error before or during an invocation."""


class Throttled(RuntimeError):
    """Every environment is busy and the concurrency limit is reached."""


class InvocationTimeout(RuntimeError):
    """The handler ran past the function timeout."""


@dataclass
class Invocation:
    request_id: str
    event: bytes
    done: asyncio.Future[tuple[str, bytes]]
    handed_at: float = 0.0
    finished_at: float = 0.0


@dataclass(frozen=True)
class InvokeRecord:
    """One invocation as the REPORT line describes it (all durations in ms)."""

    request_id: str
    environment: int
    cold: bool
    init_ms: float | None
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    outcome: str  # "response" | "error" | "timeout" | "failed"


@dataclass(frozen=True)
class FunctionConfig:
    app_dir: Path
    handler: str
    memory_mb: int = 512
    timeout_s: float = 30.0
    python: str = sys.executable
    extra_env: Mapping[str, str] = field(default_factory=dict)
    idle_reap_s: float | None = IDLE_REAP_S
    name: str = FUNCTION_NAME  # AWS_LAMBDA_FUNCTION_NAME and the log group's name

    def limits(self) -> Limits:
        """The envelope Lambda gives one environment of this memory size."""
        return Limits.lambda_environment(self.memory_mb)


def _max_memory_mb(pid: int) -> int:
    """Peak resident set (VmHWM) of the environment process, as Max Memory Used reports it."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return math.ceil(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return 0


class Environment:
    """One execution environment: a Runtime API server and the runtime process polling it."""

    _ids = itertools.count(1)

    def __init__(self, config: FunctionConfig, log: IO[str] | None, group: Group | None = None) -> None:
        self.id = next(self._ids)
        self.group = group
        self.frozen = False
        self.last_used = time.monotonic()
        self.on_exit: Callable[[Environment], None] | None = None
        self.config = config
        self.log = log
        self.queue: asyncio.Queue[Invocation | None] = asyncio.Queue()  # None: shutting down
        self.current: Invocation | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.dead = False
        self.process: asyncio.subprocess.Process | None = None
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.spawned_at = 0.0
        self.init_ms: float | None = None
        self.invocations = 0

    # --- Runtime API -----------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application(client_max_size=7 * 1024 * 1024)
        app.router.add_get(f"{API}/invocation/next", self._next)
        app.router.add_post(f"{API}/invocation/{{rid}}/response", self._response)
        app.router.add_post(f"{API}/invocation/{{rid}}/error", self._error)
        app.router.add_post(f"{API}/init/error", self._init_error)
        return app

    def _freeze(self) -> None:
        if self.group is not None and not self.frozen and not self.dead:
            self.group.freeze()
            self.frozen = True

    def _thaw(self) -> None:
        if self.group is not None and self.frozen:
            self.group.thaw()
            self.frozen = False

    async def _next(self, request: web.Request) -> web.StreamResponse:
        if not self.ready.done():
            self.init_ms = (time.monotonic() - self.spawned_at) * 1000
            self.ready.set_result(None)
        if self.queue.empty():
            # The runtime asked for work and none is waiting: Lambda freezes the sandbox here.
            self._freeze()
        invocation = await self.queue.get()
        self._thaw()
        if invocation is None:
            return web.Response(status=410, text="environment stopped")
        self.current = invocation
        invocation.handed_at = time.monotonic()
        deadline_ms = int((time.time() + self.config.timeout_s) * 1000)
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": function_arn(self.config.name),
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            "Content-Type": "application/json",
        }
        return web.Response(body=invocation.event, headers=headers)

    def _finish(self, rid: str, kind: str, body: bytes) -> web.Response:
        invocation = self.current
        if invocation is None or invocation.request_id != rid:
            return web.json_response(
                {"errorMessage": "unknown request id", "errorType": "InvalidRequestID"}, status=400
            )
        invocation.finished_at = time.monotonic()
        self.current = None
        if not invocation.done.done():
            invocation.done.set_result((kind, body))
        return web.json_response({"status": "OK"}, status=202)

    async def _response(self, request: web.Request) -> web.Response:
        return self._finish(request.match_info["rid"], "response", await request.read())

    async def _error(self, request: web.Request) -> web.Response:
        return self._finish(request.match_info["rid"], "error", await request.read())

    async def _init_error(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self.ready.done():
            self.ready.set_exception(EnvironmentFailed(f"init error: {body[:500]!r}"))
        return web.json_response({"status": "OK"}, status=202)

    # --- lifecycle -------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.config.extra_env)
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.port}",
                "_HANDLER": self.config.handler,
                "AWS_LAMBDA_FUNCTION_NAME": self.config.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.config.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.config.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]env{self.id}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
                "LAMBDA_TASK_ROOT": str(self.config.app_dir),
                "AWS_REGION": env.get("AWS_REGION", region),
                "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", region),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    async def start(self) -> None:
        """Open the Runtime API and spawn the runtime; returns at once (await `ready`)."""
        self.runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self.runner.setup()
        # Bind first so the port is known before the runtime is told where its API is.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self.runner, sock).start()
        self.spawned_at = time.monotonic()
        output: Any = self.log if self.log is not None else asyncio.subprocess.DEVNULL
        group = self.group
        # Join the envelope before exec, so the interpreter's own start-up (the init) is capped too.
        enter = (lambda: group.add(os.getpid())) if group is not None else None
        self.process = await asyncio.create_subprocess_exec(
            self.config.python,
            "-m",
            "awslambdaric",
            self.config.handler,
            cwd=self.config.app_dir,
            env=self._environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            preexec_fn=enter,  # the event loop thread only; it writes one file
        )
        if group is not None:
            group.add(self.process.pid)  # again from here: an unenforced group tracks pids itself
        asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        assert self.process is not None
        code = await self.process.wait()
        self.dead = True
        self.frozen = False
        if self.on_exit is not None:
            self.on_exit(self)
        failure = EnvironmentFailed(f"environment {self.id} exited with {code}")
        if not self.ready.done():
            self.ready.set_exception(failure)
        if self.current is not None and not self.current.done.done():
            self.current.done.set_exception(failure)
        await self._close_api()

    async def _close_api(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            # Release a /next long-poll still waiting, so shutdown cancels no request handler.
            self.queue.put_nowait(None)
            await asyncio.sleep(0.01)
            await runner.cleanup()

    async def invoke(self, event: bytes) -> tuple[str, bytes, Invocation]:
        """Hand one event to this environment and wait for its outcome."""
        if self.dead:
            raise EnvironmentFailed(f"environment {self.id} is dead")
        loop = asyncio.get_running_loop()
        invocation = Invocation(str(uuid.uuid4()), event, loop.create_future())
        self.invocations += 1
        await self.queue.put(invocation)
        try:
            kind, body = await asyncio.wait_for(invocation.done, self.config.timeout_s)
        except TimeoutError as exc:
            await self.stop()
            raise InvocationTimeout(
                f"{invocation.request_id} timed out after {self.config.timeout_s}s"
            ) from exc
        return kind, body, invocation

    async def stop(self) -> None:
        self.dead = True
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self._thaw()  # a frozen process cannot act on its SIGKILL until thawed
            await self.process.wait()
        await self._close_api()

    def max_memory_used_mb(self) -> int:
        return _max_memory_mb(self.process.pid) if self.process is not None else 0


_group_ids = itertools.count(1)


def billed_ms(duration_ms: float, init_ms: float | None) -> int:
    """Lambda bills in 1 ms steps; the INIT phase is billed on a cold start (since Aug 2025)."""
    return max(1, math.ceil(duration_ms + (init_ms or 0.0)))


class Pool:
    """Execution environments of one function: reuse idle ones, start new ones up to a limit."""

    def __init__(
        self,
        config: FunctionConfig,
        concurrency: int,
        log: IO[str] | None = None,
        on_record: Callable[[InvokeRecord], None] | None = None,
        envelopes: Envelopes | None = None,
    ) -> None:
        self.config = config
        self.concurrency = concurrency
        self.log = log
        self.on_record = on_record
        self.envelopes = envelopes
        self.idle: list[Environment] = []
        self.environments: set[Environment] = set()
        self.cold_starts = 0
        self.throttles = 0
        self.invocations = 0
        self.reaped = 0
        self.cpu_seconds_retired = 0.0  # CPU of environments already gone (their groups are removed)
        self._reaper: asyncio.Task[None] | None = None

    def _environment(self) -> Environment:
        group = None
        if self.envelopes is not None:
            group = self.envelopes.group(f"lambda-env{next(_group_ids)}", self.config.limits())
        env = Environment(self.config, self.log, group)
        env.on_exit = self._retire
        return env

    def _retire(self, env: Environment) -> None:
        """The environment's process is gone: keep its CPU figure, remove its envelope."""
        if env.group is not None and self.envelopes is not None:
            self.cpu_seconds_retired += env.group.cpu_seconds()
            self.envelopes.discard(env.group)
            env.group = None

    def cpu_seconds(self) -> float:
        """CPU used by every environment of this pool so far (0.0 where envelopes are off)."""
        live = sum(env.group.cpu_seconds() for env in self.environments if env.group is not None)
        return self.cpu_seconds_retired + live

    async def new_environment(self) -> Environment:
        env = self._environment()
        await env.start()
        return env

    def _start_reaper(self) -> None:
        idle_reap_s = self.config.idle_reap_s
        if self._reaper is None and idle_reap_s is not None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever(idle_reap_s))

    async def _reap_forever(self, idle_reap_s: float) -> None:
        while True:
            await asyncio.sleep(min(max(idle_reap_s / 4, 0.05), 5.0))
            await self.reap(idle_reap_s)

    async def reap(self, idle_reap_s: float) -> int:
        """Stop environments idle for longer than `idle_reap_s`; the next request is cold."""
        now = time.monotonic()
        stale = [env for env in self.idle if now - env.last_used > idle_reap_s]
        for env in stale:
            self.idle.remove(env)
            self.environments.discard(env)
        await asyncio.gather(*(env.stop() for env in stale))
        self.reaped += len(stale)
        return len(stale)

    async def invoke(self, event: bytes) -> tuple[str, bytes, InvokeRecord]:
        """Run one event: warm on the most recently used idle environment, else cold."""
        self._start_reaper()
        while self.idle and self.idle[-1].dead:
            self.environments.discard(self.idle.pop())
        cold = not self.idle
        if cold:
            if len(self.environments) >= self.concurrency:
                self.throttles += 1
                raise Throttled(f"all {self.concurrency} environments busy")
            # Count the environment before the first await so concurrent requests see the slot taken.
            env = self._environment()
            self.environments.add(env)
            self.cold_starts += 1
            try:
                await env.start()
                await env.ready
            except BaseException:
                self.environments.discard(env)
                await env.stop()
                raise
        else:
            env = self.idle.pop()
        self.invocations += 1
        try:
            kind, body, invocation = await env.invoke(event)
        except BaseException:
            # Failed, timed out, or the client went away mid-invocation: Lambda would not reuse
            # a sandbox in an unknown state either.
            self.environments.discard(env)
            await env.stop()
            raise
        env.last_used = time.monotonic()
        if env.dead:
            self.environments.discard(env)
        else:
            self.idle.append(env)
        record = self.record(env, invocation, kind, cold)
        return kind, body, record

    def figures(self) -> dict[str, Any]:
        """This function's counters, as /__emulator/stats reports them."""
        return {
            "name": self.config.name,
            "handler": self.config.handler,
            "environments": len(self.environments),
            "idle": len(self.idle),
            "concurrency_limit": self.concurrency,
            "cold_starts": self.cold_starts,
            "throttles": self.throttles,
            "invocations": self.invocations,
            "reaped": self.reaped,
            "idle_reap_s": self.config.idle_reap_s,
            "memory_mb": self.config.memory_mb,
            "cpu_seconds": self.cpu_seconds(),
        }

    def record(self, env: Environment, invocation: Invocation, kind: str, cold: bool) -> InvokeRecord:
        duration = (invocation.finished_at - invocation.handed_at) * 1000
        init = env.init_ms if cold else None
        record = InvokeRecord(
            request_id=invocation.request_id,
            environment=env.id,
            cold=cold,
            init_ms=init,
            duration_ms=duration,
            billed_ms=billed_ms(duration, init),
            memory_size_mb=self.config.memory_mb,
            max_memory_used_mb=env.max_memory_used_mb(),
            outcome=kind,
        )
        if self.log is not None:
            self.log.write(report_line(record) + "\n")
            self.log.flush()
        if self.on_record is not None:
            self.on_record(record)
        return record

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        envs, self.environments, self.idle = list(self.environments), set(), []
        await asyncio.gather(*(env.stop() for env in envs))


def report_line(record: InvokeRecord) -> str:
    """The REPORT line Lambda writes to CloudWatch Logs after each invocation."""
    line = (
        f"REPORT RequestId: {record.request_id}\tDuration: {record.duration_ms:.2f} ms\t"
        f"Billed Duration: {record.billed_ms} ms\tMemory Size: {record.memory_size_mb} MB\t"
        f"Max Memory Used: {record.max_memory_used_mb} MB\t"
    )
    if record.init_ms is not None:
        line += f"Init Duration: {record.init_ms:.2f} ms\t"
    return line
