// The Balancer module; see README's design section.
