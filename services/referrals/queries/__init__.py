"""Read models of the referrals service for the gateway: one referral, lists, the access log, statistics."""
