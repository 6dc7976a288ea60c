"""Rules of the partner network, without I/O: who may do what (access), the lifecycles of partners and
partnerships, what goes into a partner's feed, webhooks, and API keys."""

from services.partners.domain.access import (
    check_may_change_library,
    check_may_read_feed,
    check_may_read_partner,
    check_may_register_partner,
    check_may_register_tenant,
)

__all__ = [
    "check_may_change_library",
    "check_may_read_feed",
    "check_may_read_partner",
    "check_may_register_partner",
    "check_may_register_tenant",
]
