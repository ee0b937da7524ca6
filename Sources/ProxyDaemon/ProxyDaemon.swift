// The ProxyDaemon module; see README's design section.
