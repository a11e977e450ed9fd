"""Who is calling: the store roles (orderentity.md section 3) and the `Principal` a credential
resolves to. Below both the registry (methods declare the role they need) and `auth` (which
builds principals), so neither imports the other."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.IntEnum):
    """Online-store roles (orderentity.md section 3); each includes the ones below it."""

    NONE = 0
    STORE_MANAGER = 1
    STORE_ADMIN = 2

    @classmethod
    def parse(cls, text: str) -> Role:
        return {"none": cls.NONE, "manager": cls.STORE_MANAGER, "admin": cls.STORE_ADMIN}[text]

    @property
    def label(self) -> str:
        return {0: "none", 1: "manager", 2: "admin"}[int(self)]


@dataclass(frozen=True, slots=True)
class Principal:
    portal_id: int
    user_id: int
    scopes: frozenset[str]
    role: Role
    is_admin: bool
    # The credential limits are kept per: "webhook:<id>" or "app:<id>".
    credential: str
    kind: str = "webhook"
    # For OAuth calls: the application's id and client id.
    app_id: int | None = None
    client_id: str = ""

    def has_scope(self, scope: str) -> bool:
        if scope == "basic" or scope in self.scopes:
            return True
        return bool(IMPLIED.get(scope, frozenset()) & self.scopes)


# A method open to a narrow scope is open to the wider ones too: user.get is declared for
# `user_brief`, which `user_basic` and `user` include (api-reference/user/user-scope.md).
IMPLIED: dict[str, frozenset[str]] = {
    "user_brief": frozenset({"user_basic", "user"}),
    "user_basic": frozenset({"user"}),
}
