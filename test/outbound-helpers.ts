/**
 * URLs at hosts the outbound policy (src/http/outbound.ts) never fetches: the addresses of issue
 * 10 §3, the same places in every other spelling WHATWG URL parsing accepts, the other
 * non-public ranges, and special-use names. Shared by the policy's own tests and the endpoint tests.
 */
export const FORBIDDEN_HOSTS: readonly string[] = [
  // as reported
  "https://127.0.0.1/", "https://[::1]/", "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "https://localhost/",
  "https://0.0.0.0/", "https://[::ffff:127.0.0.1]/", "https://2130706433/",
  // IPv4 notations: octal, hex, short forms, percent-encoded and full-width digits (all parse to 127.0.0.1)
  "https://0177.0.0.1/", "https://0x7f.1/", "https://127.1/", "https://0x7f000001/", "https://017700000001/", "https://%31%32%37.0.0.1/",
  "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "https://127.0.0.1./",
  // IPv6 spellings of IPv4 (mapped, compatible), NAT64, 6to4
  "https://[::ffff:7f00:1]/", "https://[0:0:0:0:0:ffff:127.0.0.1]/", "https://[::127.0.0.1]/", "https://[64:ff9b::7f00:1]/",
  "https://[64:ff9b::10.0.0.1]/", "https://[2002:7f00:1::]/", "https://[2002:a9fe:a9fe::1]/",
  // the other ranges
  "https://172.16.0.1/", "https://172.31.255.255/", "https://192.168.1.1/", "https://100.64.0.1/", "https://169.254.0.1/",
  "https://224.0.0.1/", "https://255.255.255.255/", "https://240.0.0.1/", "https://198.18.0.1/", "https://192.0.2.1/",
  "https://[::]/", "https://[fe80::1]/", "https://[fd00::1]/", "https://[fc00::1]/", "https://[ff02::1]/", "https://[2001:db8::1]/",
  // special-use and internal names (RFC 6761, 6762, 8375), single labels
  "https://LOCALHOST/", "https://localhost./", "https://app.localhost/", "https://metadata.google.internal/", "https://printer.local/",
  "https://nas.home.arpa/", "https://box.localdomain/", "https://metadata/", "https://intranet:8443/",
];
