// The ProxyCore module; see README's design section.
