// The DNSCore module; see README's design section.
