"""The shared HTTP mechanism every vendor builds on, written once: :mod:`.hook` (``DialerHook``,
on ``HttpHook``'s ``requests`` session), :mod:`.auth` (a credential's lifecycle as a ``requests``
auth), :mod:`.retry` (what is transient and when a resend is safe), :mod:`.responses` (reading
answers). Nothing here knows a vendor's name."""
