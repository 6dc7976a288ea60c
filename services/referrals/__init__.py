"""referrals: closed-loop referrals, the participants' personal data (encrypted), consent and history."""
