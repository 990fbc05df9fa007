"""pars.outbox."""
