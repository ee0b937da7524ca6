// The DNSServer module; see README's design section.
