"""The web console for library staff, coordinators and partners: server-rendered pages over the same services."""

from gateway.console.router import console_router

__all__ = ["console_router"]
