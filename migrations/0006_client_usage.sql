-- Migration 0006: self-registered clients (RFC 7591 POST /register) and whether they were ever used
-- (src/registration/usage.ts). Only the registration endpoint writes rows here, so a client with a
-- row is a dynamic one and an operator client never has one: maintenance removes the clients whose
-- row says no token was issued within UNUSED_CLIENT_TTL, and the operator lists recent ones
-- (GET /admin/registrations).
CREATE TABLE client_registrations (
  client_id TEXT PRIMARY KEY,
  -- The registrant's network, not its address: an IPv4 /24 or IPv6 /48 prefix of CF-Connecting-IP
  -- (enough to see where a flood comes from and block it), NULL when the request had none.
  network TEXT,
  created_at INTEGER NOT NULL,
  -- When a token was first issued to the client (the token endpoint writes it once), NULL = never.
  -- 0 = registered before this migration, when use was not recorded: counted as used, never removed.
  first_used_at INTEGER
);
CREATE INDEX client_registrations_created ON client_registrations (created_at);

-- The clients registered through /register before this migration: those with a registration access token.
INSERT INTO client_registrations (client_id, network, created_at, first_used_at)
  SELECT r.client_id, NULL, c.created_at, 0 FROM registration_tokens r JOIN clients c ON c.client_id = r.client_id;
