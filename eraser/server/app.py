"""The HTTP face of the server: the contract's erase endpoint, result downloads, health.

Erasing is CPU-bound, so it runs in worker processes (settings.workers, eraser.server.workers),
each job within settings.job_timeout. What a request may cost is decided by the Gate
(eraser.server.gate) from its headers: key, size, room in the queue, in upload memory and in
the result store; past those, the answer is 401, 413 or 503 before the body is read. Once the
body is in, the photo's header (not its pixels) gives the most its result can take, and that
room is held in the store when the job's turn comes, before the erase: a result that could
not be kept is refused (503) before any work is spent on it (docs/server.md).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, File, Request, Security, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from eraser import contract, engines
from eraser.server.checks import ContractError, check_file
from eraser.server.gate import Gate, Load
from eraser.server.jobs import erase_job, local_erase, warm_up
from eraser.server.settings import MB, Settings
from eraser.server.storage import ResultStore, StoreFailed, StoreFull, open_store, result_bound
from eraser.server.workers import JobCancelled, JobTimeout, Workers

log = logging.getLogger(__name__)

# Two files at the limit, plus room for multipart headers and boundaries.
MAX_BODY_BYTES = 2 * contract.MAX_FILE_BYTES + 64 * 1024
RESULTS_PATH = "/results"
RECHECK_SECONDS = 1.0  # how soon a store that could not be written is tried again


class ErrorDetail(BaseModel):
    status_code: int
    code: str
    code_message: str
    message: str


class ResultData(BaseModel):
    image_url: str


class Envelope(BaseModel):
    request_id: str
    log_id: str
    error_code: int
    error_code_str: str
    error_msg: str
    error_detail: ErrorDetail
    data: ResultData | None = None


def _codes_for(status: int) -> str:
    return ", ".join(code for code, spec in contract.ERRORS.items() if spec.status == status)


ERROR_RESPONSES = {status: {"model": Envelope, "description": _codes_for(status)}
                   for status in (400, 401, 408, 413, 415, 422, 500, 503, 504)}


def contract_error(code: str, retry_after: int | None = None) -> JSONResponse:
    status, body = contract.error_body(code)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(settings: Settings, *, clock=time.time, store: ResultStore | None = None,
               erase=local_erase) -> FastAPI:
    """The ASGI app. clock gives seconds since the epoch (tests move it to expire results);
    erase is jobs.local_erase unless a test needs an engine that fails or stalls (it runs in a
    worker process, so it must be a module-level function)."""
    if not settings.api_keys:
        raise ValueError("no API key configured: set ERASER_API_KEYS (a server must not accept everyone)")
    store = store or open_store(settings)
    keys = [key.encode() for key in settings.api_keys]
    workers = Workers(settings.workers, settings.job_timeout, warm_up=(warm_up, settings.engine),
                      preload=engines.modules(settings.engine))

    def authorized(key: str | None) -> bool:
        given = (key or "").encode()
        # Every key is compared, so the time taken does not say which one nearly matched.
        return any([hmac.compare_digest(given, known) for known in keys])

    def keep(data: bytes, media_type: str, room) -> tuple[str, str | None]:
        """Store a result: its token, and its URL when the store serves it itself."""
        token = store.put(data, media_type, clock() + settings.result_ttl, room)
        return token, store.url(token, settings.result_ttl)

    async def run_job(request: Request, image: bytes, mask: bytes) -> tuple[str, str | None]:
        """The stored result (keep()); the job is stopped, and nothing stored, if the client goes.
        Its room in the store is held from the job's turn until the result is stored, and
        given back on every other path (refusal, failure, time limit, client gone)."""
        loop = asyncio.get_running_loop()
        width, height = await loop.run_in_executor(None, check_file, image)  # ContractError: refused now
        room = store.reservation(result_bound(len(image), width, height))
        try:
            gone = threading.Event()
            job = asyncio.wrap_future(workers.submit(gone, erase_job, image, mask, settings.engine, settings.grow,
                                                     erase, before=room.hold))  # StoreFull: never run
            disconnect = asyncio.ensure_future(_disconnected(request))
            try:
                await asyncio.wait({job, disconnect}, return_when=asyncio.FIRST_COMPLETED)
                if not job.done():  # the client has gone
                    gone.set()  # a running job sees this and has its process killed
                    job.cancel()  # a queued one is dropped now
                    raise JobCancelled()
            finally:
                disconnect.cancel()
            data, media_type = job.result()  # JobTimeout, ContractError...: what the worker raised
            return await loop.run_in_executor(None, keep, data, media_type, room)
        finally:
            room.release()  # a no-op once put() has counted the result instead

    @asynccontextmanager
    async def lifespan(app):
        async def tend_forever():
            """Recheck a store that could not be written every RECHECK_SECONDS; purge every
            purge_interval."""
            loop = asyncio.get_running_loop()
            purge_at = 0.0
            while True:
                try:
                    await loop.run_in_executor(None, store.recheck)
                    if loop.time() >= purge_at:
                        purge_at = loop.time() + settings.purge_interval
                        removed = await loop.run_in_executor(None, store.purge, clock())
                        if removed:
                            log.info("removed %d expired results", removed)
                except Exception:  # a failed round must not stop the next ones
                    log.exception("tending the result store failed")
                await asyncio.sleep(min(settings.purge_interval, RECHECK_SECONDS))

        asyncio.get_running_loop().run_in_executor(None, workers.prestart)
        sweeper = asyncio.create_task(tend_forever())
        yield
        sweeper.cancel()
        workers.close()

    app = FastAPI(title="Eraser image-erase server", version="1",
                  description="The AILabTools image-erase contract, served by the local Eraser engines.",
                  lifespan=lifespan)
    api_key = APIKeyHeader(name=contract.KEY_HEADER, auto_error=False)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # A wrong key is reported before a malformed form: without a key, nothing else matters.
        if not authorized(request.headers.get(contract.KEY_HEADER)):
            return contract_error("ERROR_USER_NOT_EXISTS")
        missing = any(error.get("type") == "missing" for error in exc.errors())
        return contract_error("MISSING_PARAMETERS" if missing else "ERROR_PARAMETERS")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and not authorized(request.headers.get(contract.KEY_HEADER)):
            return contract_error("ERROR_USER_NOT_EXISTS")  # a malformed body with a wrong key
        code = {400: "ERROR_PARAMETERS", 404: "ERROR_AI_NOT_EXISTS"}.get(exc.status_code)
        if code is None:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return contract_error(code)

    @app.post(contract.PATH, response_model=Envelope, responses=ERROR_RESPONSES,
              summary="Erase what the mask covers (white = erase)")
    async def image_erase(request: Request, image: UploadFile = File(...), user_mask: UploadFile = File(...),
                          key: str | None = Security(api_key)):
        if not authorized(key):  # the Gate has checked already; this keeps the route safe on its own
            return contract_error("ERROR_USER_NOT_EXISTS")
        files = []
        for upload in (image, user_mask):
            files.append(await upload.read())
            await upload.close()  # its spooled copy goes; a waiting request holds its bytes once
        try:
            token, url = await run_job(request, *files)
        except ContractError as err:
            return contract_error(err.code)
        except JobCancelled:
            log.info("erase cancelled: the client went away")
            return contract_error("AI_SERVICE_TIMEOUT")  # nobody is listening
        except JobTimeout:
            log.warning("erase stopped after %.0f s (ERASER_JOB_TIMEOUT)", settings.job_timeout)
            return contract_error("AI_SERVICE_TIMEOUT")
        except StoreFull as full:
            log.warning("result refused for now: %s", full)
            return contract_error("AI_SERVICE_FLOW_RESTRICTION", retry_after=60)
        except StoreFailed as failed:
            log.error("result not stored: %s", failed)
            return contract_error("SERVICE_INTERNAL_ERROR")
        except Exception:
            log.exception("erase failed")
            return contract_error("SERVICE_INTERNAL_ERROR")
        origin = settings.public_url or str(request.base_url).rstrip("/")
        return contract.success_body(url or f"{origin}{RESULTS_PATH}/{token}")

    @app.get(RESULTS_PATH + "/{token}", response_class=Response,
             responses={200: {"content": {"image/*": {}}, "description": "the erased image"},
                        404: {"description": "unknown or expired"}},
             summary="Download an erased image (works for the result's lifetime, then 404)")
    async def result(token: str):
        stored = await asyncio.get_running_loop().run_in_executor(None, store.get, token, clock())
        if stored is None:
            return JSONResponse({"detail": "This result does not exist or has expired: erase the photo again."},
                                status_code=404)
        max_age = max(0, int(stored.expires_at - clock()))
        return Response(stored.data, media_type=stored.media_type,
                        headers={"Cache-Control": f"private, max-age={max_age}", "X-Content-Type-Options": "nosniff"})

    @app.get("/health", summary="Liveness and load")
    async def health():
        return {"status": "ok", "workers": settings.workers, "in_flight": load.active,
                "engine": settings.engine, "store_full": store.full(), "stopped_jobs": workers.killed}

    load = Load()
    app.add_middleware(Gate, load=load, key_ok=authorized, max_body=MAX_BODY_BYTES, body_timeout=settings.body_timeout,
                       memory_budget=settings.upload_mb * MB, max_active=settings.max_active, store_full=store.full)

    app.state.settings = settings  # eraser.server.run.server_config reads the connection limits here
    return app


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the body was read already, so only a disconnect comes)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass

