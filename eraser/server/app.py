"""The HTTP face of the server: the contract's erase endpoint, result downloads, health.

Erasing is CPU-bound, so it runs on a fixed pool of worker threads (settings.workers); requests
beyond the workers wait in a bounded queue, and past that are told to come back (503).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, File, Request, Security, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

import eraser
from eraser import contract
from eraser.errors import EngineError, MaskError
from eraser.server.bodylimit import BodyLimit
from eraser.server.checks import ContractError, read_request
from eraser.server.settings import Settings
from eraser.server.storage import LocalDirStore, ResultStore

log = logging.getLogger(__name__)

# Two files at the limit, plus room for multipart headers and boundaries.
MAX_BODY_BYTES = 2 * contract.MAX_FILE_BYTES + 64 * 1024
RESULTS_PATH = "/results"


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
                   for status in (400, 401, 413, 415, 422, 500, 503)}


def contract_error(code: str, retry_after: int | None = None) -> JSONResponse:
    status, body = contract.error_body(code)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(settings: Settings, *, clock=time.time, store: ResultStore | None = None,
               erase=eraser.erase) -> FastAPI:
    """The ASGI app. clock gives seconds since the epoch (tests move it to expire results);
    erase is eraser.erase unless a test needs an engine it can hold still."""
    if not settings.api_keys:
        raise ValueError("no API key configured: set ERASER_API_KEYS (a server must not accept everyone)")
    store = store or LocalDirStore(settings.result_dir)
    keys = [key.encode() for key in settings.api_keys]
    pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="erase")
    state = {"in_flight": 0}

    def authorized(key: str | None) -> bool:
        given = (key or "").encode()
        # Every key is compared, so the time taken does not say which one nearly matched.
        return any([hmac.compare_digest(given, known) for known in keys])

    def job(image: bytes, mask: bytes) -> str:
        photo, pixels = read_request(image, mask)
        try:
            result = erase(photo, pixels, engine=settings.engine, grow=settings.grow)
        except MaskError:  # the mask marks nothing to erase
            raise ContractError("ERROR_INVALID_PARAMETER") from None
        except EngineError:
            raise ContractError("PROCESSING_FAILURE") from None
        return store.put(result.encode(), result.mime_type(), clock() + settings.result_ttl)

    @asynccontextmanager
    async def lifespan(app):
        async def purge_forever():
            while True:
                try:
                    removed = await asyncio.get_running_loop().run_in_executor(None, store.purge, clock())
                    if removed:
                        log.info("removed %d expired results", removed)
                except Exception:  # a failed sweep must not stop the next ones
                    log.exception("purging expired results failed")
                await asyncio.sleep(settings.purge_interval)

        sweeper = asyncio.create_task(purge_forever())
        yield
        sweeper.cancel()
        pool.shutdown(wait=False, cancel_futures=True)

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
        if not authorized(key):
            return contract_error("ERROR_USER_NOT_EXISTS")
        if state["in_flight"] >= settings.workers + settings.max_queue:
            return contract_error("AI_SERVICE_FLOW_RESTRICTION", retry_after=1)
        state["in_flight"] += 1
        try:
            image_bytes, mask_bytes = await image.read(), await user_mask.read()
            token = await asyncio.get_running_loop().run_in_executor(pool, job, image_bytes, mask_bytes)
        except ContractError as err:
            return contract_error(err.code)
        except Exception:
            log.exception("erase failed")
            return contract_error("SERVICE_INTERNAL_ERROR")
        finally:
            state["in_flight"] -= 1
        origin = settings.public_url or str(request.base_url).rstrip("/")
        return contract.success_body(f"{origin}{RESULTS_PATH}/{token}")

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
        return {"status": "ok", "workers": settings.workers, "in_flight": state["in_flight"],
                "engine": settings.engine}

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, key_ok=authorized)
    return app

