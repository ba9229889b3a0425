"""A minimal token-auth vendor (sandbox side and hook side) to test hooks/base.py in isolation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_provider_dialers.hooks.base import Credential, CredentialAuth, DialerAuthError, DialerHook
from airflow_provider_dialers.sandbox.core import VendorSandbox

TOY_LOGIN = "toy-user"
TOY_PASSWORD = "toy-password-xyz"


class ToySandbox(VendorSandbox):
    name = "toy"
    path_prefix = "/toy"

    def seed_state(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.token_ttl: float | None = None
        self.reject_all_tokens = False
        self.login_headers: dict[str, str] = {}

    def snapshot(self) -> dict[str, Any]:
        return {"items": list(self.items)}

    def _authorized(self, request: Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return not self.reject_all_tokens and self.credentials.check(self.name, token) is not None

    def build_router(self) -> APIRouter:
        router = APIRouter(prefix=self.path_prefix)
        unauthorized = JSONResponse({"error": "invalid token"}, status_code=401)

        @router.post("/login")
        async def login(request: Request, body: dict[str, Any]) -> Any:
            self.login_headers = dict(request.headers)
            if body.get("user") != TOY_LOGIN or body.get("password") != TOY_PASSWORD:
                self.credentials.failed_logins[self.name] += 1
                return JSONResponse({"error": "bad credentials"}, status_code=401)
            return {"token": self.credentials.issue(self.name, TOY_LOGIN, ttl=self.token_ttl)}

        @router.get("/items")
        async def list_items(request: Request) -> Any:
            return self.items if self._authorized(request) else unauthorized

        @router.post("/items")
        async def add_item(request: Request, body: dict[str, Any]) -> Any:
            if not self._authorized(request):
                return unauthorized
            if "name" not in body:
                return JSONResponse({"code": "MISSING", "message": "name is required"}, status_code=400)
            self.items.append(body)
            return JSONResponse({"id": len(self.items)}, status_code=201)

        @router.get("/headers")
        async def headers(request: Request) -> Any:
            return dict(request.headers) if self._authorized(request) else unauthorized

        return router


class ToyAuth(CredentialAuth):
    def login(self) -> Credential:
        response = self.hook.request(
            "POST", "/toy/login", authenticated=False, retry_safe=True, ok_statuses=(200, 401),
            json_body={"user": self.hook.connection.login, "password": self.hook.connection.password},
        )
        if response.status_code == 401:
            raise DialerAuthError("login refused: check the connection's login and password", vendor="Toy")
        return Credential(self.hook.parse_json(response, "login")["token"])

    def apply(self, request, credential: Credential) -> None:
        request.headers["Authorization"] = f"Bearer {credential.value}"


class ToyHook(DialerHook):
    conn_type = "toy"
    default_conn_name = "toy_default"
    hook_name = "Toy"
    vendor_name = "Toy"

    def build_auth(self) -> CredentialAuth:
        return ToyAuth(self)

    def list_items(self) -> list[dict[str, Any]]:
        return self.parse_json(self.request("GET", "/toy/items", retry_safe=True), "list items")

    def add_item(self, name: str | None) -> int:
        body = {"name": name} if name is not None else {}
        return self.parse_json(self.request("POST", "/toy/items", retry_safe=False, json_body=body), "add")["id"]

    def headers_seen(self) -> dict[str, str]:
        return self.parse_json(self.request("GET", "/toy/headers", retry_safe=True), "headers")

    def _test_connection_call(self) -> str:
        return f"{len(self.list_items())} items"
