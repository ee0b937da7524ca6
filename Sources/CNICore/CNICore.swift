// The CNICore module; see README's design section.
